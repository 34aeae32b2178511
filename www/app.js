/*
 * Quarry's page: lists the Concur definitions a token may use, starts a
 * job, watches its status every 2 seconds and downloads the file.  Plain
 * JavaScript, no libraries; every request carries
 * "Authorization: OAuth <token>", so downloads are fetched and saved
 * through a blob URL rather than followed as links.
 */
"use strict";

(function () {
	var NS = "http://www.concursolutions.com/api/expense/extract/2010/02";
	var BASE = "/api/expense/extract/v1.0/";
	var POLL_MS = 2000;

	var tokenInput = document.getElementById("token");
	var message = document.getElementById("message");
	var defSection = document.getElementById("definitions");
	var defRows = document.getElementById("definition-rows");
	var jobSection = document.getElementById("jobs");
	var jobRows = document.getElementById("job-rows");
	var jobsOf = document.getElementById("jobs-of");
	var current = null;	/* { name, jobLink } of the shown definition */
	var timer = null;

	/* Shows a line of news, or an error when isError. */
	function say(text, isError) {
		message.textContent = text;
		message.className = isError ? "error" : "";
		message.hidden = !text;
	}

	function token() {
		return tokenInput.value.trim();
	}

	/* The same-origin path (and query) of an absolute URI from a body. */
	function localPath(uri) {
		var u = new URL(uri, window.location.href);
		return u.pathname + u.search;
	}

	/* The text of the first child element `name` of el, or "". */
	function child(el, name) {
		var list = el.getElementsByTagNameNS(NS, name);
		return list.length ? list[0].textContent.trim() : "";
	}

	/* The message of a Concur <Error> body, or a generic one. */
	function errorText(res, text) {
		var doc, msg = "";
		try {
			doc = new DOMParser().parseFromString(text,
			    "application/xml");
			msg = child(doc.documentElement, "Message");
		} catch (e) {
			msg = "";
		}
		return res.status + " " + res.statusText + (msg ? ": " + msg : "");
	}

	/*
	 * Sends a request with the token; resolves to the parsed XML document
	 * on a 2xx answer, rejects with a readable Error otherwise.
	 */
	function api(method, path) {
		var init = {
			method: method,
			headers: { "Authorization": "OAuth " + token() },
			cache: "no-store"
		};
		if (method === "POST") {
			/* An empty body: lighttpd wants a Content-Length. */
			init.headers["Content-Type"] = "application/xml";
			init.body = "";
		}
		return fetch(path, init).then(function (res) {
			return res.text().then(function (text) {
				var doc;

				if (!res.ok)
					throw new Error(errorText(res, text));
				doc = new DOMParser().parseFromString(text,
				    "application/xml");
				if (doc.getElementsByTagName("parsererror").length)
					throw new Error("the answer is not XML");
				return doc;
			});
		});
	}

	function button(label, onClick) {
		var b = document.createElement("button");
		b.type = "button";
		b.textContent = label;
		b.addEventListener("click", onClick);
		return b;
	}

	function cell(row, text, cls) {
		var td = document.createElement("td");
		if (text !== undefined)
			td.textContent = text;
		if (cls)
			td.className = cls;
		row.appendChild(td);
		return td;
	}

	/* Lists the definitions the token may use. */
	function listDefinitions() {
		say("Loading definitions…");
		api("GET", BASE).then(function (doc) {
			var defs = doc.getElementsByTagNameNS(NS, "definition");
			var i;

			defRows.textContent = "";
			for (i = 0; i < defs.length; i++)
				defRows.appendChild(definitionRow(defs[i]));
			defSection.hidden = false;
			say(defs.length ? "" : "No definitions for this token.");
		}).catch(function (e) {
			defSection.hidden = true;
			jobSection.hidden = true;
			say(e.message, true);
		});
	}

	function definitionRow(el) {
		var d = {
			id: child(el, "id"),
			name: child(el, "name"),
			jobLink: child(el, "job-link")
		};
		var tr = document.createElement("tr");
		var actions;

		cell(tr, d.name);
		cell(tr, d.id.replace(/.*\//, ""), "id").title = d.id;
		actions = cell(tr, undefined, "actions");
		actions.appendChild(button("Start job", function () {
			startJob(d);
		}));
		actions.appendChild(button("Jobs", function () {
			showJobs(d);
		}));
		return tr;
	}

	/* POSTs a job for definition d, then watches its list of jobs. */
	function startJob(d) {
		say("Starting a job of " + d.name + "…");
		api("POST", localPath(d.jobLink)).then(function (doc) {
			say("Job created: " + child(doc.documentElement, "status") +
			    ".");
			showJobs(d);
		}).catch(function (e) {
			say(e.message, true);
			showJobs(d);
		});
	}

	/* Shows the jobs of d, refreshing every 2 s while one is active. */
	function showJobs(d) {
		current = d;
		jobsOf.textContent = d.name;
		jobSection.hidden = false;
		refreshJobs();
	}

	function refreshJobs() {
		var d = current;

		if (timer !== null) {
			clearTimeout(timer);
			timer = null;
		}
		if (d === null)
			return;
		api("GET", localPath(d.jobLink)).then(function (doc) {
			var jobs = doc.getElementsByTagNameNS(NS, "job");
			var active = false, i, status;

			if (d !== current)
				return;
			jobRows.textContent = "";
			for (i = 0; i < jobs.length; i++) {
				status = child(jobs[i], "status");
				if (status === "Queued" || status === "Running")
					active = true;
				jobRows.appendChild(jobRow(jobs[i], status));
			}
			if (!jobs.length) {
				var tr = document.createElement("tr");
				cell(tr, "No jobs yet.").colSpan = 4;
				jobRows.appendChild(tr);
			}
			if (active)
				timer = setTimeout(pollActive, POLL_MS);
		}).catch(function (e) {
			say(e.message, true);
		});
	}

	/*
	 * Polls the status link of every active job shown; once none is
	 * active any more, reloads the list (for the file links).
	 */
	function pollActive() {
		var rows = jobRows.querySelectorAll("tr[data-status-link]");
		var checks = [], i;

		timer = null;
		for (i = 0; i < rows.length; i++)
			checks.push(pollRow(rows[i]));
		Promise.all(checks).then(function (states) {
			if (states.indexOf(true) >= 0)
				timer = setTimeout(pollActive, POLL_MS);
			else
				refreshJobs();
		});
	}

	/* Updates one job row from its status link; resolves to "active". */
	function pollRow(tr) {
		return api("GET", localPath(tr.getAttribute("data-status-link")))
		    .then(function (doc) {
			var status = child(doc.documentElement, "status");
			var td = tr.querySelector("td.status");

			td.textContent = status;
			td.className = "status status-" + status;
			return status === "Queued" || status === "Running";
		}).catch(function (e) {
			say(e.message, true);
			return false;
		});
	}

	function jobRow(el, status) {
		var tr = document.createElement("tr");
		var fileLink = child(el, "file-link");
		var actions;

		if (status === "Queued" || status === "Running")
			tr.setAttribute("data-status-link",
			    child(el, "status-link"));
		cell(tr, child(el, "start-time"));
		cell(tr, status, "status status-" + status);
		cell(tr, child(el, "stop-time"));
		actions = cell(tr, undefined, "actions");
		if (fileLink && status === "Completed")
			actions.appendChild(button("Download", function (ev) {
				download(fileLink, ev.target);
			}));
		return tr;
	}

	/* The file name from a Content-Disposition header, if any. */
	function fileName(res) {
		var cd = res.headers.get("Content-Disposition") || "";
		var m = /filename\*=UTF-8''([^;]+)/i.exec(cd);

		if (m)
			return decodeURIComponent(m[1]);
		m = /filename="?([^";]+)"?/i.exec(cd);
		return m ? m[1] : "export.csv";
	}

	/* Fetches a job's file with the token and saves it. */
	function download(link, btn) {
		btn.disabled = true;
		say("Downloading…");
		fetch(localPath(link), {
			headers: { "Authorization": "OAuth " + token() },
			cache: "no-store"
		}).then(function (res) {
			if (!res.ok)
				return res.text().then(function (text) {
					throw new Error(errorText(res, text));
				});
			return res.blob().then(function (blob) {
				var a = document.createElement("a");
				var url = URL.createObjectURL(blob);

				a.href = url;
				a.download = fileName(res);
				document.body.appendChild(a);
				a.click();
				a.remove();
				setTimeout(function () {
					URL.revokeObjectURL(url);
				}, 1000);
				say("Saved " + a.download + " (" + blob.size +
				    " bytes).");
			});
		}).catch(function (e) {
			say(e.message, true);
		}).then(function () {
			btn.disabled = false;
		});
	}

	document.getElementById("token-form").addEventListener("submit",
	    function (ev) {
		ev.preventDefault();
		try {
			sessionStorage.setItem("quarry-token", token());
		} catch (e) {
			/* storage may be disabled; the field still holds it */
		}
		current = null;
		jobSection.hidden = true;
		listDefinitions();
	});

	document.getElementById("forget").addEventListener("click", function () {
		try {
			sessionStorage.removeItem("quarry-token");
		} catch (e) {
			/* nothing stored */
		}
		tokenInput.value = "";
		current = null;
		if (timer !== null)
			clearTimeout(timer);
		defSection.hidden = true;
		jobSection.hidden = true;
		say("");
	});

	try {
		tokenInput.value = sessionStorage.getItem("quarry-token") || "";
	} catch (e) {
		tokenInput.value = "";
	}
	if (token())
		listDefinitions();
}());
