// Microsoft's own Graph JavaScript client (@microsoft/microsoft-graph-client)
// against a Quarry stack, for tests/integration/test_tls.py.
//
//   QUARRY_BASE=https://127.0.0.1:PORT/api/ QUARRY_TOKEN=... \
//   NODE_EXTRA_CA_CERTS=VARDIR/tls/cert.pem node tests/graphjs/list_jobs.js
//
// 1. Over HTTPS: a Client (baseUrl QUARRY_BASE, version "v1", the host in
//    customHosts, an authProvider giving the token) lists /exportJobs two
//    at a time and follows every @odata.nextLink with PageIterator.
// 2. Over plain HTTP: the same kind of Client pointed at a listener of its
//    own on 127.0.0.1, to see whether the token goes out.
//
// Prints one JSON object: the ids listed, every request fetch was given
// (URL, whether it carried Authorization), how often the authProvider
// was asked, and what the plain-HTTP listener received.  The test checks
// it; this script asserts nothing itself.  It uses Node's own fetch
// (Node 18 and later): the client needs no polyfill there.

"use strict";

const http = require("http");
const { Client, PageIterator } = require("@microsoft/microsoft-graph-client");

const base = process.env.QUARRY_BASE;
const token = process.env.QUARRY_TOKEN;
if (!base || !token) {
	console.error("list_jobs.js: QUARRY_BASE and QUARRY_TOKEN are needed");
	process.exit(2);
}

// Every request the client hands to fetch, and whether it carried a token.
const sent = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (request, options) => {
	const url = typeof request === "string" ? request : request.url;
	let auth = null;
	const h = options && options.headers;
	if (h) {
		auth = typeof h.get === "function" ? h.get("Authorization") :
		    h.Authorization || h.authorization || null;
	}
	sent.push({ url, authorization: auth !== null && auth !== undefined });
	return realFetch(request, options);
};

function client(baseUrl, calls) {
	return Client.init({
		baseUrl,
		defaultVersion: "v1",
		customHosts: new Set([new URL(baseUrl).hostname]),
		authProvider: (done) => {
			calls.n++;
			done(null, token);
		},
	});
}

async function overHttps() {
	const calls = { n: 0 };
	const c = client(base, calls);
	const ids = [];
	const first = await c.api("/exportJobs").top(2).get();
	const pageSizes = [first.value.length];
	const it = new PageIterator(c, first, (job) => {
		ids.push(job.id);
		return true;
	});
	await it.iterate();
	return { ids, firstPage: pageSizes[0], tokenCalls: calls.n,
	    requests: sent.splice(0) };
}

// A plain-HTTP listener that answers like Quarry without a token (401)
// and notes the headers it got.
async function overHttp() {
	const got = [];
	const server = http.createServer((req, res) => {
		got.push({ url: req.url,
		    authorization: req.headers.authorization || null });
		res.writeHead(401, { "Content-Type": "application/json" });
		res.end(JSON.stringify({ error: { code: "unauthenticated",
		    message: "authentication required" } }));
	});
	await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
	const url = "http://127.0.0.1:" + server.address().port + "/api/";
	const calls = { n: 0 };
	let error = null;
	try {
		await client(url, calls).api("/exportJobs").top(2).get();
	} catch (e) {
		error = { statusCode: e.statusCode, code: e.code };
	}
	server.close();
	return { received: got, tokenCalls: calls.n, error,
	    requests: sent.splice(0) };
}

(async () => {
	const out = {};
	try {
		out.https = await overHttps();
	} catch (e) {
		out.https = { failed: String(e && e.stack || e),
		    statusCode: e && e.statusCode, requests: sent.splice(0) };
	}
	out.http = await overHttp();
	process.stdout.write(JSON.stringify(out) + "\n");
})().catch((e) => {
	console.error(e);
	process.exit(1);
});
