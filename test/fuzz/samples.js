'use strict';
// Real shapes to mutate: every text frame type and every route answer recorded from ComfyUI v0.8.0
// (test/fixtures/transcripts), so generated inputs start close to what a server sends and the
// mutations reach deep into each reader instead of failing at the first field.
const { readdirSync } = require('node:fs');
const { join } = require('node:path');

const DIR = join(__dirname, '..', 'fixtures', 'transcripts');

function transcripts() {
  return readdirSync(DIR)
    .filter((file) => file.endsWith('.json'))
    .map((file) => require(join(DIR, file)));
}

/** type → distinct recorded `data` objects of that text frame type (at most 6 each). */
function frameSamples() {
  const byType = new Map();
  for (const t of transcripts()) {
    for (const event of t.ws || []) {
      if (event.event !== 'text' || !event.data || typeof event.data.type !== 'string') continue;
      const list = byType.get(event.data.type) || [];
      const text = JSON.stringify(event.data.data);
      if (list.length < 6 && !list.some((d) => JSON.stringify(d) === text)) list.push(event.data.data);
      byType.set(event.data.type, list);
    }
  }
  return byType;
}

/** The route an answer belongs to, as the client asks it: ids and names become placeholders. */
function routeOf(method, path) {
  const bare = path.split('?')[0].replace(/^\/api(?=\/)/, '');
  if (/^\/history\/[^/]+$/.test(bare)) return `${method} /history/{id}`;
  if (/^\/object_info\/[^/]+$/.test(bare)) return `${method} /object_info/{class}`;
  if (/^\/models\/[^/]+$/.test(bare)) return `${method} /models/{folder}`;
  return `${method} ${bare}`;
}

/** route → recorded JSON answers `{status, json}` of that route. */
function answerSamples() {
  const byRoute = new Map();
  for (const t of transcripts()) {
    for (const exchange of t.http || []) {
      const { request, response } = exchange;
      if (!request || !response || !response.body || response.body.json === undefined) continue;
      const route = routeOf(request.method, request.path || '');
      const list = byRoute.get(route) || [];
      if (list.length < 6) list.push({ status: response.status, json: response.body.json });
      byRoute.set(route, list);
    }
  }
  return byRoute;
}

module.exports = { frameSamples, answerSamples };
