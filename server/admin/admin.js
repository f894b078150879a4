// The admin page: reads /v1/admin/sites/<site>/report with the key typed in (kept in this
// page's memory only) and draws it. Every value goes in as text, never as markup.
'use strict';
(function adminPage() {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const COLOURS = ['#1f5eff', '#f08c00', '#2b9a66', '#c2255c', '#7048e8', '#0c8599', '#e8590c', '#5c7cfa', '#868e96'];
  let key = '';

  // The response of an admin request with the key; an error with the server's reason if refused.
  const request = (path) => fetch(path, { headers: { Authorization: `Bearer ${key}` }, cache: 'no-store' }).then(async (r) => {
    if (r.ok) return r;
    const body = await r.json().catch(() => ({}));
    throw new Error(body.error?.message || `HTTP ${r.status}`);
  });
  const api = (path) => request(path).then((r) => r.json());
  let reportSite = '';
  const el = (tag, attributes = {}, text) => {
    const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = String(text);
    return node;
  };
  const cell = (text, numeric) => el('td', numeric ? { class: 'n' } : {}, text);
  const seconds = (s) => (s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`);

  const today = new Date().toISOString().slice(0, 10);
  $('to').value = today;
  $('from').value = new Date(Date.now() - 29 * 864e5).toISOString().slice(0, 10);

  $('key').addEventListener('change', () => {
    key = $('key').value.trim();
    api('/v1/admin/sites').then(({ sites }) => {
      $('site').replaceChildren(...sites.map((s) => el('option', { value: s }, s)));
      $('status').textContent = '';
    }, (error) => {
      $('status').textContent = error.message;
    });
  });

  $('query').addEventListener('submit', (event) => {
    event.preventDefault();
    key = $('key').value.trim();
    const site = $('site').value;
    if (!site) return;
    $('status').textContent = 'loading…';
    const query = new URLSearchParams({ from: $('from').value, to: $('to').value });
    api(`/v1/admin/sites/${encodeURIComponent(site)}/report?${query}`).then((report) => {
      $('status').textContent = '';
      reportSite = site;
      render(report);
    }, (error) => {
      $('status').textContent = error.message;
      $('report').hidden = true;
    });
  });

  // The conversion feeds as files: fetched with the key (a plain link could not send it), then
  // saved under the name the server gives. The server marks nothing as exported.
  for (const button of document.querySelectorAll('#conversions button')) {
    button.addEventListener('click', () => {
      request(`/v1/admin/sites/${encodeURIComponent(reportSite)}/conversions/${button.dataset.platform}.csv`).then(async (r) => {
        const name = /filename="([^"]+)"/.exec(r.headers.get('Content-Disposition') || '')?.[1] || 'conversions.csv';
        const url = URL.createObjectURL(await r.blob());
        const link = el('a', { href: url, download: name });
        document.body.append(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 1000);
        $('status').textContent = '';
      }, (error) => {
        $('status').textContent = error.message;
      });
    });
  }

  function render(report) {
    // The report has deliveries only for a site with conversion rules: only then the feeds.
    $('conversions').hidden = !report.deliveries;
    const t = report.totals;
    $('tiles').replaceChildren(...[
      ['calls', t.calls], ['answered', t.answered], ['missed', t.missed],
      ['average duration', seconds(t.average_duration_seconds)], ['first-time callers', t.first_time_callers],
      ['from a visit (dynamic number)', t.by_attribution.session],
    ].map(([label, value]) => {
      const tile = el('div', { class: 'tile' });
      tile.append(el('b', {}, value), el('span', {}, label));
      return tile;
    }));
    const sources = [...new Set(report.days.flatMap((d) => Object.keys(d.by_source)))].sort();
    const colour = (source) => COLOURS[sources.indexOf(source) % COLOURS.length];
    $('legend').replaceChildren(...sources.map((s) => el('span', { style: `--c:${colour(s)}` }, s)));
    drawCalls(report.days, sources, colour);
    $('sources').tBodies[0].replaceChildren(...report.sources.map((s) => {
      const row = el('tr');
      row.append(cell(s.source), cell(s.campaign || '—'), cell(s.calls, true), cell(s.answered, true), cell(s.missed, true),
        cell(seconds(s.average_duration_seconds), true), cell(s.first_time_callers, true));
      return row;
    }));
    drawPools(report.pools);
    $('pools').tBodies[0].replaceChildren(...report.pools.map((p) => {
      const row = el('tr');
      row.append(cell(p.pool), cell(p.size, true), cell(p.active, true), cell(p.peak_active, true), cell(p.exhausted_events, true),
        cell(p.recommended_size, true));
      return row;
    }));
    $('report').hidden = false;
  }

  // Stacked bars: one per day, one segment per source.
  function drawCalls(days, sources, colour) {
    const svg = $('calls-chart');
    const [width, height, left, bottom] = [1000, 300, 40, 24];
    const max = Math.max(1, ...days.map((d) => d.calls));
    const step = (width - left) / Math.max(1, days.length);
    const scale = (height - bottom - 10) / max;
    const parts = [el('svg:line', { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: '#aab' }),
      el('svg:text', { x: 4, y: 14, 'font-size': 12 }, max), el('svg:text', { x: 4, y: height - bottom, 'font-size': 12 }, 0)];
    days.forEach((day, i) => {
      let y = height - bottom;
      for (const source of sources) {
        const count = day.by_source[source] || 0;
        if (!count) continue;
        const h = count * scale;
        y -= h;
        const bar = el('svg:rect', { x: left + i * step + 1, y, width: Math.max(1, step - 2), height: h, fill: colour(source),
          'data-source': source, 'data-date': day.date });
        bar.append(el('svg:title', {}, `${day.date} · ${source}: ${count}`));
        parts.push(bar);
      }
      if (days.length <= 31 || i % Math.ceil(days.length / 31) === 0) {
        parts.push(el('svg:text', { x: left + i * step + step / 2, y: height - 6, 'font-size': 10, 'text-anchor': 'middle' }, day.date.slice(5)));
      }
    });
    svg.replaceChildren(...parts);
  }

  // Utilisation (0 to 100 %) of each pool over time, one line per pool.
  function drawPools(pools) {
    const svg = $('pool-chart');
    const [width, height, left, bottom] = [1000, 220, 40, 20];
    const points = pools.flatMap((p) => p.utilisation.map((u) => u.at));
    const start = Math.min(...points);
    const end = Math.max(...points);
    const x = (at) => left + (end > start ? ((at - start) / (end - start)) * (width - left - 10) : 0);
    const y = (u) => height - bottom - u * (height - bottom - 10);
    const parts = [el('svg:line', { x1: left, y1: y(0), x2: width, y2: y(0), stroke: '#aab' }),
      el('svg:text', { x: 4, y: y(1) + 4, 'font-size': 12 }, '100%'), el('svg:text', { x: 4, y: y(0), 'font-size': 12 }, '0%')];
    pools.forEach((pool, i) => {
      if (pool.utilisation.length === 0) return;
      const line = el('svg:polyline', { fill: 'none', stroke: COLOURS[i % COLOURS.length], 'stroke-width': 2, 'data-pool': pool.pool,
        points: pool.utilisation.map((u) => `${x(u.at).toFixed(1)},${y(u.utilisation).toFixed(1)}`).join(' ') });
      line.append(el('svg:title', {}, pool.pool));
      parts.push(line);
    });
    if (parts.length === 3) parts.push(el('svg:text', { x: width / 2, y: height / 2, 'text-anchor': 'middle' }, 'no pool samples in this period'));
    svg.replaceChildren(...parts);
  }
})();
