/**
 * A webhook delivery exactly as GoCardless documents it, copied from the test
 * suite of its official Ruby client library (gocardless/gocardless-pro-ruby,
 * spec/webhook_spec.rb): the endpoint secret, the raw request body and the
 * `Webhook-Signature` GoCardless computed for them. Independent of our signer,
 * so the Worker's verifier is checked against the provider, not against itself.
 */
export const PUBLISHED_WEBHOOK = {
  secret: "ED7D658C-D8EB-4941-948B-3973214F2D49",
  rawBody:
    '{"events":[{"id":"EV00BD05S5VM2T","created_at":"2018-07-05T09:13:51.404Z","resource_type":"subscriptions","action":"created","links":{"subscription":"SB0003JJQ2MR06"},"details":{"origin":"api","cause":"subscription_created","description":"Subscription created via the API."},"metadata":{}},{"id":"EV00BD05TB8K63","created_at":"2018-07-05T09:13:56.893Z","resource_type":"mandates","action":"created","links":{"mandate":"MD000AMA19XGEC"},"details":{"origin":"api","cause":"mandate_created","description":"Mandate created via the API."},"metadata":{}}]}',
  signature: "2693754819d3e32d7e8fcb13c729631f316c6de8dc1cf634d6527f1c07276e7e",
} as const;
