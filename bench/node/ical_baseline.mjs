// ical_baseline.mjs — the ical.js 2.x baseline of bench/bench_convert.sh (issue 21 target 4).
//   node ical_baseline.mjs parse FILE            read FILE and parse it to ical.js's tree
//   node ical_baseline.mjs expand FILE FROM TO   the same, then expand every VEVENT
//                                                (overrides related by UID) over [FROM, TO)
// Prints "SECONDS COUNT": the time spent in this process from reading the file to the
// result (Node's own start-up excluded, which favours ical.js), and the number of
// components parsed or occurrences found.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import ICAL from 'ical.js';

const [mode, file, from, to] = process.argv.slice(2);
const t0 = performance.now();
const jcal = ICAL.parse(readFileSync(file, 'utf8'));
let count = 0;
if (mode === 'parse') {
  count = jcal[2].filter((c) => c[0] === 'vevent').length;
} else if (mode === 'expand') {
  const cal = new ICAL.Component(jcal);
  const start = ICAL.Time.fromDateTimeString(from.replace(/Z$/, ''));
  const end = ICAL.Time.fromDateTimeString(to.replace(/Z$/, ''));
  start.zone = ICAL.Timezone.utcTimezone;
  end.zone = ICAL.Timezone.utcTimezone;
  const masters = new Map();
  const exceptions = [];
  for (const vevent of cal.getAllSubcomponents('vevent')) {
    // exceptions given (related below by UID): without them each Event scans every
    // VEVENT of its calendar for overrides, quadratic in the calendar's size
    const ev = new ICAL.Event(vevent, { exceptions: [] });
    if (ev.isRecurrenceException()) exceptions.push(ev);
    else masters.set(ev.uid, ev);
  }
  for (const ex of exceptions) masters.get(ex.uid)?.relateException(ex);
  for (const ev of masters.values()) {
    if (!ev.isRecurring()) {
      const s = ev.startDate.toUnixTime();
      if (s >= start.toUnixTime() && s < end.toUnixTime()) count++;
      continue;
    }
    const it = ev.iterator();
    for (let next = it.next(); next; next = it.next()) {
      if (next.compare(end) >= 0) break;
      const occ = ev.getOccurrenceDetails(next);
      if (occ.startDate.compare(start) >= 0) count++;
    }
  }
} else {
  console.error('usage: node ical_baseline.mjs parse|expand FILE [FROM TO]');
  process.exit(2);
}
console.log(`${((performance.now() - t0) / 1000).toFixed(4)} ${count}`);
