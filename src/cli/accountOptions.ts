import type { Command } from 'commander';

/**
 * The account and venue flags every research command takes (backtest, optimize, compare), with one help
 * text each; `resolveBacktestSettings` reads them.
 */
export function addAccountOptions(command: Command): Command {
  return command
    .option('--balance <amount>', 'initial cash in quote currency (default 10000)')
    .option('--fee <fraction>', 'fee on every fill as a fraction of notional (default 0.001)')
    .option('--slippage-bps <bps>', 'slippage on every market fill, in basis points (default 0)')
    .option('--sizing <spec>', 'fixed:QUANTITY | equity:PERCENT | risk:PERCENT (default equity:100)');
}
