// Diagnostics channel for budget reservation leases (metrics subscribe; nothing here imports them).
import { channel } from 'node:diagnostics_channel';

export interface BudgetLeasesExpiredEvent {
  gatewayId: number;
  /** Reservations (per counter) released because their lease ran out unsettled: their replica died mid-request. */
  reservations: number;
}

export const budgetLeasesExpired = channel('breakwater:limits:budget-leases-expired');
