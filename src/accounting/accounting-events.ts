// Diagnostics channels for cost accounting: recorded spend, budget alerts and their deliveries, the ledger's durability path.
import { channel } from 'node:diagnostics_channel';

export interface SpendRecordedEvent {
  gatewayId: number;
  model: string;
  provider: string;
  costUsd: number;
}

export interface AlertEvent {
  gatewayId: number;
  /** `budget` (a threshold crossed) or `anomaly` (spend rate far above its trailing average). */
  kind: 'budget' | 'anomaly';
  scope: string;
  subject: string;
  period: string;
  threshold: number;
  message: string;
}

export interface AlertDeliveryEvent {
  gatewayId: number;
  channel: 'log' | 'webhook';
  outcome: 'delivered' | 'retried' | 'dead-lettered';
}

export interface LedgerEvent {
  gatewayId: number;
  /** `written` (a batch reached the store), `retried`, `spooled` (kept in the local file), `replayed`. */
  outcome: 'written' | 'retried' | 'spooled' | 'replayed';
  records: number;
}

export const spendRecorded = channel('breakwater:accounting:spend');
export const alertRaised = channel('breakwater:accounting:alert');
export const alertDelivery = channel('breakwater:accounting:alert-delivery');
export const ledgerActivity = channel('breakwater:accounting:ledger');
