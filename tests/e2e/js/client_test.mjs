// End-to-end test: the official Qdrant JavaScript client (@qdrant/js-client-rest, pinned in
// package.json) against a running 3-peer qdnode cluster.
//
//   node client_test.mjs http://127.0.0.1:6333 http://127.0.0.1:6433 http://127.0.0.1:6533
//   QDRANT_URLS=http://127.0.0.1:6333,http://127.0.0.1:6433,http://127.0.0.1:6533 node client_test.mjs
//
// Every step goes through the client's own methods (client.api() where the high-level client has
// no wrapper), and different steps talk to different peers, so the answers also check that the
// peers agree. Each step prints one line; the first failed assertion (or client error) prints what
// went wrong and exits 1. run.sh starts the cluster and calls this.
import assert from 'node:assert/strict';
import { QdrantClient } from '@qdrant/js-client-rest';

const urls = process.argv.length > 2
  ? process.argv.slice(2)
  : (process.env.QDRANT_URLS ?? '').split(',').filter((u) => u.length > 0);
if (urls.length !== 3) {
  console.error('usage: node client_test.mjs URL1 URL2 URL3   (or QDRANT_URLS=URL1,URL2,URL3)');
  process.exit(2);
}

// One client per peer. checkCompatibility stays on (the default): the client asks GET / for the
// server version and warns if it is incompatible; the version step below asserts it too.
const clients = urls.map((url) => new QdrantClient({ url, timeout: 60_000 }));
const peer = (i) => clients[i];
const COLLECTION = `js_client_${process.pid}_${Date.now()}`;

let stepNumber = 0;
async function step(name, body) {
  stepNumber += 1;
  const started = Date.now();
  try {
    const note = await body();
    console.log(`ok ${stepNumber} - ${name} (${Date.now() - started} ms)${note ? `: ${note}` : ''}`);
  } catch (e) {
    console.error(`not ok ${stepNumber} - ${name}`);
    console.error(describeError(e));
    process.exit(1);
  }
}

// The client throws ApiError (from @qdrant/openapi-typescript-fetch) with status/url/data for
// non-2xx answers; print all of it, since that is what a REST incompatibility looks like.
function describeError(e) {
  if (e && typeof e === 'object' && 'status' in e && 'url' in e) {
    return `  client error: HTTP ${e.status} ${e.statusText ?? ''} for ${e.url}\n  body: ${JSON.stringify(e.data)}\n  ${e.stack}`;
  }
  return `  ${e?.stack ?? e}`;
}

// Polls `probe` (an async predicate) every 100 ms until it returns true or `ms` passes.
async function eventually(what, probe, ms = 15_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      if (await probe()) return;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `; last error:\n${describeError(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The client's ApiError carries the HTTP status of a failed request.
async function expectHttpError(status, promise) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.status, status, `expected HTTP ${status}, got ${e.status}: ${JSON.stringify(e.data)}`);
    return true;
  });
}

// ---- The data set -----------------------------------------------------------------------------
// Vectors have components that are multiples of 1/8, so they survive float32 storage exactly and
// Dot scores can be compared with tolerance 1e-4. Scores against QUERY are pairwise distinct.
const CITIES = ['Berlin', 'Paris', 'Rome', 'Oslo'];
const UUIDS = [
  '0b6a5b3c-7d1e-4f2a-9c3b-1a2b3c4d5e6f',
  '5f3d2c1b-0a9e-4d8c-b7a6-f5e4d3c2b1a0',
  'c0ffee00-1234-4abc-8def-0123456789ab',
  'ffffffff-0000-4000-8000-000000000001',
];
const BIG_ID = Number.MAX_SAFE_INTEGER; // 2^53-1: a u64 id far beyond 32 bits that JSON keeps exact
const NUMERIC_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1000, BIG_ID];

function makePoint(id, k) {
  const vector = [((k % 5) + 1) / 8, ((k * 3) % 7) / 8, (k % 4) / 4, (k + 1) / 16];
  const payload = {
    k,
    city: CITIES[k % CITIES.length],
    group: k % 2 === 0 ? 'even' : 'odd',
    tags: k % 3 === 0 ? ['three', 'x'] : ['x'],
    nested: { level: k % 3, label: `p${k}` },
  };
  if (typeof id === 'string') payload.kind = 'uuid';
  return { id, vector, payload };
}
const POINTS = [...NUMERIC_IDS, ...UUIDS].map((id, k) => makePoint(id, k));
const byId = new Map(POINTS.map((p) => [String(p.id), p]));
const QUERY = [0.5, 0.25, 1, 0.125];
const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);

// Scroll order of Qdrant: numeric ids ascending, then UUIDs (by their 128-bit value).
const idOrder = (a, b) => {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
};
const live = new Map(POINTS.map((p) => [String(p.id), p])); // what the collection should hold

function expectedTop(limit, predicate = () => true) {
  return [...live.values()]
    .filter((p) => predicate(p.payload))
    .map((p) => ({ id: p.id, score: dot(p.vector, QUERY) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, limit);
}

function checkScored(actual, expected, { withPayload }) {
  assert.deepEqual(actual.map((p) => p.id), expected.map((p) => p.id), 'ids of the nearest points, best first');
  actual.forEach((p, i) => {
    assert.ok(Math.abs(p.score - expected[i].score) < 1e-4, `score of ${p.id}: got ${p.score}, expected ${expected[i].score}`);
    if (withPayload) assert.deepEqual(p.payload, byId.get(String(p.id)).payload, `payload of ${p.id}`);
    assert.equal(typeof p.version, 'number', `version of ${p.id}`);
  });
}

// ---- The steps -----------------------------------------------------------------------------------
let peerIds = []; // peerIds[i] = the peer id of the peer behind urls[i]

await step('every peer reports Qdrant API version 1.19 (client.versionInfo)', async () => {
  for (const c of clients) {
    const info = await c.versionInfo();
    assert.match(info.version, /^1\.19\./, `version of ${JSON.stringify(info)}`);
    assert.equal(typeof info.title, 'string');
  }
  return (await peer(0).versionInfo()).version;
});

await step('cluster status on every peer: 3 peers, one agreed leader (api().clusterStatus)', async () => {
  const statuses = [];
  await eventually('all peers to agree on a leader and 3 peers', async () => {
    statuses.length = 0;
    for (const c of clients) statuses.push((await c.api().clusterStatus({})).data.result);
    const leaders = new Set(statuses.map((s) => s.raft_info?.leader));
    return statuses.every((s) => Object.keys(s.peers ?? {}).length === 3) && leaders.size === 1 && !leaders.has(null) && !leaders.has(undefined);
  });
  peerIds = statuses.map((s) => s.peer_id);
  const known = Object.keys(statuses[0].peers).sort();
  for (const s of statuses) {
    assert.equal(s.status, 'enabled');
    assert.equal(typeof s.peer_id, 'number');
    assert.deepEqual(Object.keys(s.peers).sort(), known, 'every peer knows the same peers');
    assert.ok(known.includes(String(s.peer_id)), `own id ${s.peer_id} among the peers`);
    for (const p of Object.values(s.peers)) assert.match(p.uri, /^http:\/\//);
    assert.equal(typeof s.raft_info.term, 'number');
    assert.equal(typeof s.raft_info.commit, 'number');
    assert.equal(s.raft_info.is_voter, true, `peer ${s.peer_id} is a voter`);
    assert.ok(['Leader', 'Follower'].includes(s.raft_info.role), `role ${s.raft_info.role}`);
    assert.equal(s.consensus_thread_status.consensus_thread_status, 'working');
    assert.equal(typeof s.consensus_thread_status.last_update, 'string');
    assert.equal(typeof s.message_send_failures, 'object');
  }
  assert.equal(new Set(peerIds).size, 3, 'three distinct peer ids');
  assert.equal(statuses.filter((s) => s.raft_info.role === 'Leader').length, 1, 'exactly one peer is the leader');
  assert.ok(peerIds.includes(statuses[0].raft_info.leader), 'the leader is one of the three peers');
  return `peers ${peerIds.join(', ')}, leader ${statuses[0].raft_info.leader}`;
});

await step('collectionExists is false before creation (peer 2)', async () => {
  assert.deepEqual(await peer(1).collectionExists(COLLECTION), { exists: false });
});

await step('createCollection size 4 Dot, shard_number 3, replication_factor 2 (peer 1)', async () => {
  const created = await peer(0).createCollection(COLLECTION, {
    vectors: { size: 4, distance: 'Dot' },
    shard_number: 3,
    replication_factor: 2,
  });
  assert.equal(created, true);
});

await step('creating it again fails with HTTP 409 (peer 3)', async () => {
  await expectHttpError(409, peer(2).createCollection(COLLECTION, { vectors: { size: 4, distance: 'Dot' } }));
});

await step('collectionExists is true on every peer', async () => {
  await eventually('the collection on every peer', async () => {
    for (const c of clients) if (!(await c.collectionExists(COLLECTION)).exists) return false;
    return true;
  });
});

await step('getCollection reports the configuration (peer 3)', async () => {
  const info = await peer(2).getCollection(COLLECTION);
  assert.ok(['green', 'yellow'].includes(info.status), `status ${info.status}`);
  assert.deepEqual(info.config.params.vectors, { size: 4, distance: 'Dot' });
  assert.equal(info.config.params.shard_number, 3);
  assert.equal(info.config.params.replication_factor, 2);
  assert.equal(info.points_count, 0);
  const listed = await peer(1).getCollections();
  assert.ok(listed.collections.some((c) => c.name === COLLECTION), 'getCollections lists it');
  await expectHttpError(404, peer(0).getCollection(`${COLLECTION}_missing`));
  return `status ${info.status}`;
});

await step('collectionClusterInfo: 3 shards x 2 replicas on distinct peers, all Active (every peer)', async () => {
  let infos = [];
  await eventually('every replica Active', async () => {
    infos = [];
    for (const c of clients) infos.push(await c.collectionClusterInfo(COLLECTION));
    return infos.every((ci) => [...ci.local_shards, ...ci.remote_shards].every((s) => s.state === 'Active'));
  });
  let placement;
  infos.forEach((ci, i) => {
    assert.equal(ci.peer_id, peerIds[i], `peer ${i + 1} reports its own id`);
    assert.equal(ci.shard_count, 3);
    assert.ok(Array.isArray(ci.shard_transfers));
    const replicas = [
      ...ci.local_shards.map((s) => `${s.shard_id}@${ci.peer_id}`),
      ...ci.remote_shards.map((s) => `${s.shard_id}@${s.peer_id}`),
    ].sort();
    for (const s of ci.local_shards) assert.equal(s.points_count, 0);
    for (const s of ci.remote_shards) assert.notEqual(s.peer_id, ci.peer_id, 'a remote shard is on another peer');
    if (placement === undefined) placement = replicas;
    assert.deepEqual(replicas, placement, 'every peer sees the same placement');
  });
  assert.equal(placement.length, 6, `6 replicas: ${placement}`);
  for (const shard of [0, 1, 2]) {
    const holders = placement.filter((r) => r.startsWith(`${shard}@`));
    assert.equal(new Set(holders).size, 2, `shard ${shard} has 2 replicas on distinct peers: ${holders}`);
  }
  return placement.join(' ');
});

await step('upsert points (u64 and UUID ids, payloads; wait: true) (peer 2)', async () => {
  const half = Math.ceil(POINTS.length / 2);
  const first = POINTS.slice(0, half);
  const second = POINTS.slice(half);
  const r1 = await peer(1).upsert(COLLECTION, { wait: true, points: first });
  assert.equal(r1.status, 'completed');
  assert.equal(typeof r1.operation_id, 'number');
  // The batch form of the same request.
  const r2 = await peer(1).upsert(COLLECTION, {
    wait: true,
    batch: { ids: second.map((p) => p.id), vectors: second.map((p) => p.vector), payloads: second.map((p) => p.payload) },
  });
  assert.equal(r2.status, 'completed');
  return `${POINTS.length} points`;
});

await step('upsert with a wrong vector size fails with HTTP 400 (peer 3)', async () => {
  await expectHttpError(400, peer(2).upsert(COLLECTION, { wait: true, points: [{ id: 99, vector: [1, 2, 3] }] }));
});

await step('count, exact, with and without filter (peer 3, peer 1)', async () => {
  assert.deepEqual(await peer(2).count(COLLECTION, { exact: true }), { count: POINTS.length });
  const even = POINTS.filter((p) => p.payload.group === 'even').length;
  assert.deepEqual(
    await peer(0).count(COLLECTION, { exact: true, filter: { must: [{ key: 'group', match: { value: 'even' } }] } }),
    { count: even },
  );
  const uuidsInParisOrRome = POINTS.filter((p) => p.payload.kind === 'uuid' && ['Paris', 'Rome'].includes(p.payload.city)).length;
  const c = await peer(0).count(COLLECTION, {
    filter: { must: [{ key: 'kind', match: { value: 'uuid' } }, { key: 'city', match: { any: ['Paris', 'Rome'] } }] },
  });
  assert.deepEqual(c, { count: uuidsInParisOrRome });
  const ranged = POINTS.filter((p) => p.payload.k >= 3 && p.payload.k < 9 && p.payload.nested.level !== 0).length;
  assert.deepEqual(
    await peer(1).count(COLLECTION, {
      filter: { must: [{ key: 'k', range: { gte: 3, lt: 9 } }], must_not: [{ key: 'nested.level', match: { value: 0 } }] },
    }),
    { count: ranged },
  );
  return `${POINTS.length} total, ${even} even, ${uuidsInParisOrRome} uuid in Paris/Rome, ${ranged} by range`;
});

await step('retrieve by ids with payload and vector; a missing id is left out (peer 1)', async () => {
  const ids = [3, BIG_ID, UUIDS[1], 424242];
  const got = await peer(0).retrieve(COLLECTION, { ids, with_payload: true, with_vector: true });
  assert.deepEqual(got.map((p) => p.id).sort(idOrder), [3, BIG_ID, UUIDS[1]].sort(idOrder));
  for (const p of got) {
    const want = byId.get(String(p.id));
    assert.deepEqual(p.payload, want.payload, `payload of ${p.id}`);
    assert.deepEqual(p.vector, want.vector, `vector of ${p.id}`);
  }
  const bare = await peer(2).retrieve(COLLECTION, { ids: [UUIDS[3]], with_payload: false });
  assert.equal(bare.length, 1);
  assert.equal(bare[0].id, UUIDS[3]);
  assert.ok(bare[0].payload === undefined || bare[0].payload === null, `no payload asked: ${JSON.stringify(bare[0].payload)}`);
  // GET /collections/{name}/points/{id}; the high-level client has no wrapper for it.
  const one = (await peer(1).api().getPoint({ collection_name: COLLECTION, id: 7 })).data.result;
  assert.equal(one.id, 7);
  assert.deepEqual(one.payload, byId.get('7').payload);
  await expectHttpError(404, peer(1).api().getPoint({ collection_name: COLLECTION, id: 424242 }));
});

await step('query with a vector, limit, with_payload (peer 2)', async () => {
  const r = await peer(1).query(COLLECTION, { query: QUERY, limit: 5, with_payload: true });
  checkScored(r.points, expectedTop(5), { withPayload: true });
  return r.points.map((p) => `${p.id}:${p.score}`).join(' ');
});

await step('query with a filter ({nearest}, group = odd, city != Oslo) (peer 3)', async () => {
  const filter = { must: [{ key: 'group', match: { value: 'odd' } }], must_not: [{ key: 'city', match: { value: 'Oslo' } }] };
  const r = await peer(2).query(COLLECTION, { query: { nearest: QUERY }, filter, limit: 4, with_payload: true });
  const want = expectedTop(4, (p) => p.group === 'odd' && p.city !== 'Oslo');
  assert.equal(want.length, 4);
  checkScored(r.points, want, { withPayload: true });
  for (const p of r.points) assert.equal(p.payload.group, 'odd');
  return r.points.map((p) => p.id).join(' ');
});

await step('query without payload, with vector and score_threshold (peer 1)', async () => {
  const all = expectedTop(POINTS.length);
  const threshold = (all[5].score + all[6].score) / 2; // exactly 6 points score above it
  const r = await peer(0).query(COLLECTION, { query: QUERY, limit: 100, score_threshold: threshold, with_vector: true });
  checkScored(r.points, all.slice(0, 6), { withPayload: false });
  for (const p of r.points) {
    assert.ok(p.payload === undefined || p.payload === null, `no payload asked for ${p.id}`);
    assert.deepEqual(p.vector, byId.get(String(p.id)).vector, `vector of ${p.id}`);
  }
});

// @qdrant/js-client-rest 1.19 has no search(): the legacy POST …/points/search left its API. Its
// replacement for batched nearest-neighbour search is queryBatch (POST …/points/query/batch).
await step('search through queryBatch: two searches in one request (peer 2)', async () => {
  const r = await peer(1).queryBatch(COLLECTION, {
    searches: [
      { query: QUERY, limit: 3, with_payload: true },
      { query: QUERY, limit: 2, filter: { must: [{ key: 'tags', match: { value: 'three' } }] }, with_payload: ['city'] },
    ],
  });
  assert.equal(r.length, 2);
  checkScored(r[0].points, expectedTop(3), { withPayload: true });
  const want = expectedTop(2, (p) => p.tags.includes('three'));
  checkScored(r[1].points, want, { withPayload: false });
  for (const p of r[1].points) assert.deepEqual(p.payload, { city: byId.get(String(p.id)).payload.city }, `payload selector for ${p.id}`);
});

await step('scroll through everything in pages of 5 (next_page_offset) (peer 3)', async () => {
  const seen = [];
  let offset;
  let pages = 0;
  do {
    const page = await peer(2).scroll(COLLECTION, { limit: 5, offset, with_payload: true });
    pages += 1;
    assert.ok(page.points.length <= 5, `page ${pages} has ${page.points.length} points`);
    for (const p of page.points) {
      assert.deepEqual(p.payload, byId.get(String(p.id)).payload, `payload of ${p.id}`);
      seen.push(p.id);
    }
    offset = page.next_page_offset;
    if (offset !== null && offset !== undefined) assert.equal(page.points.length, 5, 'only the last page is short');
    assert.ok(pages <= 10, 'scroll terminates');
  } while (offset !== null && offset !== undefined);
  const expected = POINTS.map((p) => p.id).sort(idOrder);
  assert.deepEqual(seen, expected, 'every point exactly once, in id order');
  return `${pages} pages`;
});

await step('scroll with a filter and without payload (peer 1)', async () => {
  const filter = { should: [{ key: 'city', match: { value: 'Berlin' } }, { has_id: [UUIDS[0], 2] }] };
  const page = await peer(0).scroll(COLLECTION, { filter, limit: 100, with_payload: false });
  const expected = POINTS.filter((p) => p.payload.city === 'Berlin' || p.id === UUIDS[0] || p.id === 2).map((p) => p.id).sort(idOrder);
  assert.deepEqual(page.points.map((p) => p.id), expected);
  assert.ok(page.next_page_offset === null || page.next_page_offset === undefined, 'one page');
  for (const p of page.points) assert.ok(p.payload === undefined || p.payload === null, `no payload for ${p.id}`);
});

await step('delete by ids (u64 and UUID) then count drops (peer 1, peer 2)', async () => {
  const gone = [1, 1000, UUIDS[2]];
  const r = await peer(0).delete(COLLECTION, { wait: true, points: gone });
  assert.equal(r.status, 'completed');
  for (const id of gone) live.delete(String(id));
  assert.deepEqual(await peer(1).count(COLLECTION, { exact: true }), { count: live.size });
  assert.deepEqual(await peer(1).retrieve(COLLECTION, { ids: gone }), []);
  return `${live.size} left`;
});

await step('delete by filter (city = Berlin) then count drops (peer 2, peer 3)', async () => {
  const berlin = [...live.values()].filter((p) => p.payload.city === 'Berlin');
  assert.ok(berlin.length > 0);
  const r = await peer(1).delete(COLLECTION, { wait: true, filter: { must: [{ key: 'city', match: { value: 'Berlin' } }] } });
  assert.equal(r.status, 'completed');
  for (const p of berlin) live.delete(String(p.id));
  const berlinFilter = { must: [{ key: 'city', match: { value: 'Berlin' } }] };
  assert.deepEqual(await peer(2).count(COLLECTION, { exact: true, filter: berlinFilter }), { count: 0 });
  for (const c of clients) assert.deepEqual(await c.count(COLLECTION, { exact: true }), { count: live.size });
  const rest = await peer(2).scroll(COLLECTION, { limit: 100 });
  assert.deepEqual(rest.points.map((p) => p.id), [...live.values()].map((p) => p.id).sort(idOrder));
  return `${berlin.length} deleted, ${live.size} left`;
});

await step('query after the deletes sees only what is left (peer 3)', async () => {
  const r = await peer(2).query(COLLECTION, { query: QUERY, limit: 5, with_payload: true });
  checkScored(r.points, expectedTop(5), { withPayload: true });
});

await step('collectionClusterInfo: every point on 2 replicas (every peer)', async () => {
  // points_count of local shards may lag writes a little in Qdrant; wait for it to settle.
  let total = 0;
  await eventually('local points_count to sum to 2 x count', async () => {
    total = 0;
    for (const c of clients) {
      const ci = await c.collectionClusterInfo(COLLECTION);
      for (const s of ci.local_shards) {
        assert.equal(s.state, 'Active');
        total += s.points_count;
      }
    }
    return total === 2 * live.size;
  }, 10_000);
  return `${total} replicated point copies`;
});

await step('getCollection points_count matches (peer 1)', async () => {
  const info = await peer(0).getCollection(COLLECTION);
  assert.equal(info.points_count, live.size);
});

await step('deleteCollection, then collectionExists is false everywhere (peer 3)', async () => {
  assert.equal(await peer(2).deleteCollection(COLLECTION), true);
  await eventually('the collection gone from every peer', async () => {
    for (const c of clients) if ((await c.collectionExists(COLLECTION)).exists) return false;
    return true;
  });
  await expectHttpError(404, peer(0).count(COLLECTION, {}));
});

console.log(`all ${stepNumber} steps passed against ${urls.join(' ')}`);
