export { type DomainConfig, parseRelayConfig, type RelayConfig, relayConfigSchema } from './config.js';
export { createRelayEngine, Relay, type RelayOptions, type RelayStats } from './relay.js';
export { dotStuff, SmtpClient, SmtpClientError, type SmtpReply } from './smtp-client.js';
