/// <reference lib="dom" />
import embed from 'vega-embed';
import { expressionInterpreter } from 'vega-interpreter';
import type { TopLevelSpec } from 'vega-lite';
import type { View } from 'vega';
import { changeset } from 'vega';

/**
 * One chart in one element. Vega's expressions run through its interpreter (`ast: true`), not through
 * generated code, so the page works under a Content-Security-Policy without 'unsafe-eval'. Rendered as
 * SVG: each mark is an element with an aria label, which is what the browser tests read.
 */
export class Chart {
  private view: View | undefined;
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly el: HTMLElement) {}

  /** Draws a new spec (replacing the previous chart); calls are serialised. */
  draw(spec: TopLevelSpec): Promise<void> {
    this.pending = this.pending.then(async () => {
      this.view?.finalize();
      const result = await embed(this.el, spec, {
        renderer: 'svg',
        actions: false,
        ast: true,
        expr: expressionInterpreter,
        tooltip: true,
      });
      this.view = result.view;
    });
    return this.pending;
  }

  /** Replaces the rows of named datasets in the drawn chart (no redraw of the spec). */
  replace(datasets: Record<string, readonly object[]>): Promise<void> {
    this.pending = this.pending.then(async () => {
      const view = this.view;
      if (view === undefined) return;
      for (const [name, rows] of Object.entries(datasets)) {
        try {
          view.data(name);
        } catch {
          continue; // a dataset this spec does not draw (no oscillator panel)
        }
        view.change(
          name,
          changeset()
            .remove(() => true)
            .insert(rows.map((r) => ({ ...r }))),
        );
      }
      await view.runAsync();
    });
    return this.pending;
  }

  get drawn(): boolean {
    return this.view !== undefined;
  }
}
