// Command-line options every bench driver that writes a ledger record takes (node:util parseArgs),
// spread into each driver's own options.
export const RECORD_OPTIONS = {
  /** print the run's record / figures (JSON) on stdout instead of the table */
  json: { type: 'boolean', default: false },
  /** also write a copy to FILE */
  save: { type: 'string' },
  /** where the run's ledger record goes (default bench/ledger/results/) */
  ledger: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;
