import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../support/cli.js';
import { MAY_SLICE } from '../support.js';

/** The four kinds of report, written by the CLI on the real May 2021 slice into a temporary folder. */
export interface ReportFiles {
  readonly backtest: string;
  readonly compare: string;
  readonly grid: string;
  readonly walkForward: string;
}

export async function writeReports(): Promise<ReportFiles> {
  const dir = mkdtempSync(join(tmpdir(), 'rxtrade-report-'));
  const files: ReportFiles = {
    backtest: join(dir, 'backtest.html'),
    compare: join(dir, 'compare.html'),
    grid: join(dir, 'grid.html'),
    walkForward: join(dir, 'walk-forward.html'),
  };
  const runs: string[][] = [
    ['backtest', '--strategy', 'sma_cross', '--data', MAY_SLICE, '--report', files.backtest],
    [
      'compare',
      '--data',
      MAY_SLICE,
      '--run',
      'sma_cross',
      '--run',
      'fast=sma_cross:{"fast_period":5}',
      '--run',
      'ema_crossover',
      '--samples',
      '300',
      '--report',
      files.compare,
    ],
    [
      'optimize',
      '--strategy',
      'sma_cross',
      '--data',
      MAY_SLICE,
      '--grid',
      'fast_period=5:20:5,slow_period=20:60:20',
      '--workers',
      '1',
      '--report',
      files.grid,
    ],
    [
      'optimize',
      '--strategy',
      'sma_cross',
      '--data',
      MAY_SLICE,
      '--grid',
      'fast_period=5,10',
      '--walk-forward',
      'train=8h,test=4h',
      '--workers',
      '1',
      '--report',
      files.walkForward,
    ],
  ];
  for (const argv of runs) {
    const r = await runCli(argv);
    if (r.code !== 0) throw new Error(`rxtrade ${argv.join(' ')} exited ${r.code}: ${r.stderr}`);
  }
  return files;
}
