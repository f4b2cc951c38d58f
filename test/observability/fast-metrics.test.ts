// The hot-path metric families must expose exactly what prom-client's own metrics expose for the same updates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CounterFamily, GaugeFamily, HistogramFamily } from '../../src/observability/fast-metrics.js';

const buckets = [0.01, 0.1, 1, 10];
const observations = [0, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 9.99, 10, 10.01, 500];

test('counters, gauges and histograms render like prom-client', async () => {
  const reference = new Registry();
  const ours = new Registry();
  const counter = new Counter({ name: 'x_requests_total', help: 'requests', labelNames: ['route', 'status'], registers: [reference] });
  const gauge = new Gauge({ name: 'x_in_flight', help: 'in flight', labelNames: ['route'], registers: [reference] });
  const plainGauge = new Gauge({ name: 'x_streams', help: 'streams', registers: [reference] });
  const histogram = new Histogram({ name: 'x_duration_seconds', help: 'duration "quoted" \\ help', labelNames: ['route', 'model'], buckets, registers: [reference] });
  const fastCounter = new CounterFamily({ name: 'x_requests_total', help: 'requests', labelNames: ['route', 'status'], registers: [ours] });
  const fastGauge = new GaugeFamily({ name: 'x_in_flight', help: 'in flight', labelNames: ['route'], registers: [ours] });
  const fastPlainGauge = new GaugeFamily({ name: 'x_streams', help: 'streams', registers: [ours] }).cell();
  const fastHistogram = new HistogramFamily({ name: 'x_duration_seconds', help: 'duration "quoted" \\ help', labelNames: ['route', 'model'], buckets, registers: [ours] });

  for (const [route, status, times] of [['/v1/chat/completions', '200', 3], ['/v1/chat/completions', '429', 1], ['/v1/embeddings', '200', 2]] as const) {
    counter.inc({ route, status }, times);
    fastCounter.cell(route, status).value += times;
  }
  gauge.inc({ route: '/a' });
  gauge.inc({ route: '/a' });
  gauge.dec({ route: '/a' });
  fastGauge.cell('/a').value += 2;
  fastGauge.cell('/a').value--;
  plainGauge.set(0);
  fastPlainGauge.value = 0;
  for (const value of observations) {
    histogram.observe({ route: '/a', model: 'm"odel\\n' }, value);
    fastHistogram.cell('/a', 'm"odel\\n').observe(value);
  }
  histogram.observe({ route: '/b', model: 'other' }, 0.2);
  fastHistogram.cell('/b', 'other').observe(0.2);

  assert.equal(await ours.metrics(), await reference.metrics());
});

test('a family refuses the wrong number of label values, and reset empties it', async () => {
  const registry = new Registry();
  const family = new CounterFamily({ name: 'y_total', help: 'y', labelNames: ['a', 'b'], registers: [registry] });
  assert.throws(() => family.cell('only-one'), /expected 2 label values/);
  family.cell('1', '2').value = 5;
  assert.match(await registry.metrics(), /y_total\{a="1",b="2"\} 5/);
  registry.resetMetrics();
  assert.doesNotMatch(await registry.metrics(), /y_total\{/);
});
