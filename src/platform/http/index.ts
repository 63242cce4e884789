export { AdminAuthGuard, adminAccess, type AdminAccess } from './admin-auth.guard';
export { AppException, HttpExceptionFilter } from './http-exception.filter';
export { DomainException } from './domain-exception';
export { ApiAdminAuth, ApiErrors, ApiPageResponse, ErrorBodyDto, METRICS_AUTH, setupOpenApi } from './openapi';
