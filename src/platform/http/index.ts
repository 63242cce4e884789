export { AdminAuthGuard } from './admin-auth.guard';
export { AppException, HttpExceptionFilter } from './http-exception.filter';
export { ApiAdminAuth, ApiErrors, ApiPageResponse, ErrorBodyDto, METRICS_AUTH, setupOpenApi } from './openapi';
