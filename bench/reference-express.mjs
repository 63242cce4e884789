// Panora's documented example handler (docs "Quickstart", Express): parse the JSON body, switch on
// the type, answer {received: true}. No signature check, nothing stored.
import express from 'express';

const app = express();
app.use(express.json({ limit: '5mb' }));

app.post('/webhook', (request, response) => {
  const event = request.body;
  switch (event.type) {
    case 'crm.contact.created': {
      const contactData = event.data;
      void contactData;
      break;
    }
    case 'crm.company.created': {
      const companyData = event.data;
      void companyData;
      break;
    }
    default:
      console.log(`Unhandled event type ${event.type}`);
  }
  response.json({ received: true });
});

app.listen(Number(process.env.PORT ?? 3102), '127.0.0.1', () => process.send?.('ready'));
