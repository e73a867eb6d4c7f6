/** What every route of `serve` shares: the store, the loaded rules, the filters folder, sessions, the clock. */
import type { AlertStore } from '../store/alert-store.ts';
import type { RuleSetRequest } from '../pack/rule-set.ts';
import type { RuleCatalog } from './rule-catalog.ts';
import type { SessionStore } from './auth.ts';

export interface ServeContext {
  store: AlertStore;
  /** The loaded rules (detail page descriptions, ATT&CK coverage). */
  catalog: RuleCatalog;
  /** How the rules were loaded: a suppression is checked by loading it the way scan would. */
  ruleRequest: RuleSetRequest;
  /** Where "Suppress from this alert" writes its Sigma filter documents. */
  filtersDir: string;
  sessions: SessionStore;
  /** Secure cookies (behind a TLS-terminating proxy, or TLS). */
  secureCookies: boolean;
  now: () => Date;
  version: string;
}
