/*
 * Quarry's page, on the Graph JSON dialect (/api/v1/): who the caller is
 * (/me), the definitions it may use, one list of its exports across
 * definitions (an admin: the tenant's, with their owners), a form built
 * from a definition's declared parameters and formats, cancel, run again,
 * delete a file, downloads through the signed link the API gives
 * (@microsoft.graph.downloadUrl: a plain link, streamed to disk by the
 * browser), and an admin's approvals and definitions.  Active exports are polled one by
 * one as often as their Retry-After says, and not at all when none is
 * active.  Rows are updated in place, so focus and scroll stay where the
 * person left them; news goes to a live region.
 *
 * Plain JavaScript, no framework, nothing fetched from elsewhere.  The
 * token (when the web server does not sign people in) stays in this tab's
 * session storage.  docs/page.md says what the page does and why.
 */
"use strict";

(function () {
	var API = "/api/v1";
	var PAGE_SIZE = 20;
	var TITLE = document.title;

	var $ = function (id) { return document.getElementById(id); };
	var tokenInput = $("token");
	var message = $("message");
	var announcer = $("announce");
	var defSelect = $("definition");
	var formatSelect = $("format");
	var paramFields = $("parameter-fields");
	var startButton = $("start-button");
	var startResult = $("start-result");
	var filterSelect = $("filter");
	var exportRows = $("export-rows");
	var approvalRows = $("approval-rows");

	var me = null;		/* GET /me: id, displayName, tenant, role */
	var defs = {};		/* definition id -> definition */
	var defOrder = [];	/* definition ids, by name */
	var jobs = {};		/* job id -> job, of the rows shown */
	var gen = 0;		/* bumped when the list is reloaded */
	var pollTimer = null;
	var nextLink = null;
	var finished = 0;	/* exports that finished since the last look */
	var starting = false;	/* a create is on its way */

	/* ---------------------------------------------------------------- */
	/* talking to the API */

	function token() {
		return sessionStorage.getItem("quarry-token") || "";
	}

	/* An API-relative path of an absolute URL the API gave. */
	function localPath(uri) {
		var u = new URL(uri, window.location.href);
		return u.pathname + u.search;
	}

	/*
	 * One request: resolves to { status, headers, body } (body: the parsed
	 * JSON or null).  A 401 signs the person out with a message and
	 * rejects, so no caller goes on with a refused token.
	 */
	function api(method, path, body) {
		var h = { "Accept": "application/json" };
		var init = { method: method, headers: h, credentials: "same-origin",
		    cache: "no-store" };

		if (token())
			h["Authorization"] = "Bearer " + token();
		if (body !== undefined) {
			h["Content-Type"] = "application/json";
			init.body = JSON.stringify(body);
		}
		return fetch(path.indexOf("/") === 0 ? path : API + "/" + path,
		    init).then(function (res) {
			return res.text().then(function (text) {
				var doc = null;
				try {
					doc = text ? JSON.parse(text) : null;
				} catch (e) {
					doc = null;
				}
				var r = { status: res.status, headers: res.headers,
				    body: doc, statusText: res.statusText };
				if (res.status === 401 && path !== "me") {
					signOut("Your sign-in was refused: the token " +
					    "was revoked or has expired. Sign in " +
					    "again with a valid token.");
					throw new Error("unauthenticated");
				}
				return r;
			});
		});
	}

	/* The message of a Graph error body, or the status line. */
	function errorText(r) {
		var e = r.body && r.body.error;
		return e && e.message ? e.message :
		    r.status + " " + (r.statusText || "error");
	}

	/* ---------------------------------------------------------------- */
	/* words, numbers, times */

	function say(text, kind) {
		message.textContent = "";
		message.className = kind || "error";
		message.hidden = !text;
		if (text)
			message.appendChild(typeof text === "string" ?
			    document.createTextNode(text) : text);
	}

	function announce(text) {
		/* a change of text is what a screen reader reads */
		announcer.textContent = "";
		window.setTimeout(function () { announcer.textContent = text; },
		    50);
	}

	function el(tag, attrs, children) {
		var e = document.createElement(tag), k;
		for (k in attrs || {}) {
			if (k === "text")
				e.textContent = attrs[k];
			else if (k === "class")
				e.className = attrs[k];
			else
				e.setAttribute(k, attrs[k]);
		}
		(children || []).forEach(function (c) {
			if (c !== null && c !== undefined)
				e.appendChild(typeof c === "string" ?
				    document.createTextNode(c) : c);
		});
		return e;
	}

	function localTime(iso) {
		var d = new Date(iso);
		return d.toLocaleString(undefined, { dateStyle: "medium",
		    timeStyle: "medium" });
	}

	function timeEl(iso) {
		return el("time", { datetime: iso, text: localTime(iso) });
	}

	function count(n) {
		return Number(n || 0).toLocaleString();
	}

	function size(n) {
		var units = ["bytes", "kB", "MB", "GB", "TB"], i = 0;
		n = Number(n || 0);
		while (n >= 1000 && i < units.length - 1) {
			n /= 1000;
			i++;
		}
		return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : 1)) + " " +
		    units[i];
	}

	/*
	 * The job's state in Quarry's words (SPEC's core states): "state"
	 * when the server sends it, else told from Graph's status and detail.
	 */
	function stateOf(j) {
		if (j.state)
			return j.state;
		if (j.status === "notStarted")
			return j.statusDetail === "pending_approval" ?
			    "pending_approval" : "queued";
		if (j.status === "running")
			return "running";
		if (j.status === "succeeded")
			return j.resourceLocation ? "completed" : "expired";
		return j.statusDetail === "cancelled" ? "cancelled" : "failed";
	}

	var WORDS = {
		queued: "Queued", pending_approval: "Awaiting approval",
		running: "Running", completed: "Ready", failed: "Failed",
		cancelled: "Cancelled", rejected: "Rejected",
		expired: "Expired"
	};

	function isActive(j) {
		var s = stateOf(j);
		return s === "queued" || s === "pending_approval" ||
		    s === "running";
	}

	function defName(j) {
		var d = defs[j.definitionId];
		return d ? d.name : (j.displayName || "definition " +
		    j.definitionId);
	}

	/* "Standard Accounting Extract (csv) of 2 Dec 2026, 14:39:16" */
	function jobLabel(j) {
		return defName(j) + " (" + j.format + ") created " +
		    localTime(j.createdDateTime);
	}

	function paramText(j) {
		var p = j.parameters || {}, keys = Object.keys(p);
		if (!keys.length)
			return "no parameters";
		return keys.map(function (k) {
			return k + " = " + p[k];
		}).join(", ");
	}

	function ownerText(j) {
		var u = j.createdBy && j.createdBy.user;
		if (!u)
			return "the system";
		if (me && u.id === me.id)
			return "you";
		return u.displayName || u.id;
	}

	/* ---------------------------------------------------------------- */
	/* the rows of the exports */

	function exportCell(j) {
		var name = el("strong", { text: defName(j) });
		return el("td", { "data-label": "Export", class: "export" }, [
			name, " ",
			el("span", { class: "format", text: j.format }),
			el("div", { class: "params", text: paramText(j) })
		]);
	}

	function statusCell(j) {
		var s = stateOf(j), pr = j.progress || {};
		var td = el("td", { "data-label": "Status", class: "status" });
		var word = el("span", { class: "state state-" + s,
		    text: WORDS[s] || s });
		td.appendChild(word);
		if (s === "running") {
			var bar = el("progress", { "aria-label": "Progress of " +
			    jobLabel(j) });
			if (typeof pr.percentComplete === "number") {
				bar.max = 100;
				bar.value = pr.percentComplete;
				bar.textContent = pr.percentComplete + "%";
			}
			td.appendChild(el("div", { class: "progress" }, [bar,
			    el("span", { class: "counts", text: count(
			    pr.rowsWritten) + " rows, " + size(pr.bytesWritten) +
			    " written" + (typeof pr.percentComplete ===
			    "number" ? " (" + pr.percentComplete + "%)" :
			    "") })]));
		} else if (s === "failed" || s === "rejected" ||
		    s === "cancelled" && j.statusDetail &&
		    j.statusDetail !== "cancelled") {
			td.appendChild(el("div", { class: "reason",
			    text: j.statusDetail || "" }));
		} else if (s === "expired") {
			td.appendChild(el("div", { class: "reason",
			    text: "The file is gone; run the export again " +
			    "for a new one." }));
		}
		return td;
	}

	function timesCell(j) {
		var s = stateOf(j), list = el("dl", { class: "times" });
		function add(term, iso) {
			if (!iso)
				return;
			list.appendChild(el("dt", { text: term }));
			list.appendChild(el("dd", {}, [timeEl(iso)]));
		}
		add("Created", j.createdDateTime);
		if (!isActive(j))
			add("Finished", j.lastActionDateTime);
		if (s === "completed")
			add("Expires", j.expirationDateTime);
		else if (s === "expired")
			add("Expired", j.expirationDateTime &&
			    new Date(j.expirationDateTime) < new Date() ?
			    j.expirationDateTime : j.lastActionDateTime);
		return el("td", { "data-label": "Times" }, [list]);
	}

	function fileCell(j) {
		var s = stateOf(j), pr = j.progress || {};
		var text = "";
		if (s === "completed")
			text = size(pr.bytesWritten) + ", " + count(pr.rowsWritten) +
			    " rows";
		else if (s === "expired")
			text = count(pr.rowsWritten) + " rows (expired)";
		return el("td", { "data-label": "File", class: "file",
		    text: text || "–" });
	}

	function button(action, text, label, fn) {
		var b = el("button", { type: "button", "data-action": action,
		    "aria-label": label, text: text });
		b.addEventListener("click", fn);
		return b;
	}

	function actionsCell(j) {
		var s = stateOf(j), label = jobLabel(j);
		var td = el("td", { "data-label": "Actions", class: "actions" });
		var url = j["@microsoft.graph.downloadUrl"];

		if (s === "completed" && url) {
			var a = el("a", { href: url, download: "",
			    "data-action": "download", class: "download",
			    "aria-label": "Download " + label,
			    text: "Download" });
			a.addEventListener("click", function (ev) {
				freshLink(ev, j.id, a);
			});
			td.appendChild(a);
		}
		if (isActive(j))
			td.appendChild(button("cancel", "Cancel", "Cancel " + label,
			    function () { cancelJob(j); }));
		if (!isActive(j))
			td.appendChild(button("rerun", "Run again", "Run again " +
			    label, function () { rerun(j); }));
		if (s === "completed")
			td.appendChild(button("delete", "Delete file",
			    "Delete the file of " + label,
			    function () { deleteFile(j); }));
		return td;
	}

	function renderRow(j) {
		var tr = el("tr", { "data-id": j.id, tabindex: "-1" }, [
			exportCell(j),
			el("td", { "data-label": "Owner", class: "owner",
			    text: ownerText(j) }),
			statusCell(j), timesCell(j), fileCell(j), actionsCell(j)
		]);
		return tr;
	}

	/*
	 * Puts row tr in place of old (or at the top), keeping the focus on
	 * the same control of the row when it still exists, else on the row.
	 */
	function placeRow(tr, old) {
		var focused = document.activeElement, action = null;
		if (old && old.contains(focused)) {
			action = focused.getAttribute("data-action");
			if (focused.tagName === "INPUT")
				return;		/* someone is typing there */
		} else
			focused = null;
		if (old)
			old.replaceWith(tr);
		else
			exportRows.insertBefore(tr, exportRows.firstChild);
		if (focused) {
			var same = action && tr.querySelector("[data-action='" +
			    action + "']");
			(same || tr).focus();
		}
	}

	function rowOf(id) {
		return exportRows.querySelector("tr[data-id='" + id + "']");
	}

	/* A job read again: its row redrawn if anything changed. */
	function updateJob(j) {
		var old = jobs[j.id], row = rowOf(j.id);
		var before = old ? stateOf(old) : null;
		jobs[j.id] = j;
		if (row && old && JSON.stringify(old) === JSON.stringify(j))
			return;
		if (row)
			placeRow(renderRow(j), row);
		if (before && before !== stateOf(j))
			stateChanged(j, before);
	}

	function stateChanged(j, before) {
		var s = stateOf(j);
		var text = jobLabel(j) + ": " + (WORDS[s] || s).toLowerCase() +
		    (s === "failed" || s === "rejected" ? " (" +
		    j.statusDetail + ")" : "") + ".";
		announce(text);
		if (!isActive(j) && (before === "running" ||
		    before === "queued")) {
			finished++;
			document.title = "(" + finished + " finished) " + TITLE;
			if (window.Notification &&
			    Notification.permission === "granted")
				try {
					new Notification("Quarry: export " +
					    (WORDS[s] || s).toLowerCase(),
					    { body: jobLabel(j) });
				} catch (e) { /* not where it is not allowed */ }
		}
		if (me && me.role === "admin")
			loadApprovals();
	}

	/* A person looking at the page has seen the news. */
	function seen() {
		if (finished) {
			finished = 0;
			document.title = TITLE;
		}
	}

	/* ---------------------------------------------------------------- */
	/* loading and polling */

	function listPath() {
		var q = "exportJobs?$top=" + PAGE_SIZE;
		if (filterSelect.value)
			q += "&$filter=" + encodeURIComponent("definitionId eq '" +
			    filterSelect.value + "'");
		return q;
	}

	/* Loads a page of exports (the first one without path). */
	function loadJobs(path) {
		var my = ++gen;
		stopPolling();
		return api("GET", path || listPath()).then(function (r) {
			if (my !== gen)
				return;		/* another load came after */
			if (r.status !== 200) {
				say("Cannot list the exports: " + errorText(r));
				return;
			}
			jobs = {};
			exportRows.textContent = "";
			r.body.value.forEach(function (j) {
				jobs[j.id] = j;
				exportRows.appendChild(renderRow(j));
			});
			$("exports-empty").hidden = r.body.value.length > 0;
			nextLink = r.body["@odata.nextLink"] || null;
			$("older").hidden = !nextLink;
			$("newest").hidden = !path;
			schedulePoll(2);
		}).catch(networkTrouble);
	}

	function stopPolling() {
		if (pollTimer) {
			window.clearTimeout(pollTimer);
			pollTimer = null;
		}
	}

	function activeIds() {
		return Object.keys(jobs).filter(function (id) {
			return isActive(jobs[id]);
		});
	}

	/* Polls again in `seconds` if an export shown is active. */
	function schedulePoll(seconds) {
		stopPolling();
		if (!activeIds().length)
			return;
		pollTimer = window.setTimeout(poll, Math.max(1, Math.min(60,
		    seconds)) * 1000);
	}

	/* One round: each active export shown, read again. */
	function poll() {
		var my = gen, wait = 60;
		pollTimer = null;
		var ids = activeIds();
		var next = Promise.resolve();
		ids.forEach(function (id) {
			next = next.then(function () {
				if (my !== gen)
					return;
				return api("GET", "exportJobs/" + id).then(
				    function (r) {
					if (my !== gen)
						return;
					var ra = parseInt(r.headers.get(
					    "Retry-After"), 10);
					if (r.status === 200) {
						updateJob(r.body);
						/*
						 * An approval can take days:
						 * waiting for one alone is
						 * polled every 30 s at most.
						 */
						if (isActive(r.body))
							wait = Math.min(wait,
							    Math.max(ra > 0 ? ra :
							    2, stateOf(r.body) ===
							    "pending_approval" ?
							    30 : 0));
					} else if (r.status === 404 ||
					    r.status === 410) {
						var row = rowOf(id);
						delete jobs[id];
						if (row)
							row.remove();
					}
				});
			});
		});
		next.then(function () {
			if (my === gen)
				schedulePoll(wait);
		}).catch(function (e) {
			if (my === gen && e.message !== "unauthenticated")
				schedulePoll(5);	/* a network blip */
		});
	}

	function networkTrouble(e) {
		if (e && e.message === "unauthenticated")
			return;
		say("Quarry cannot be reached: " + (e && e.message || e));
	}

	/* ---------------------------------------------------------------- */
	/* actions on an export */

	/* Makes sure a download link has not expired before it is followed. */
	function freshLink(ev, id, a) {
		var exp = parseInt(new URL(a.href).searchParams.get("expires"),
		    10);
		seen();
		if (exp * 1000 - Date.now() > 15000)
			return;		/* the browser follows it */
		ev.preventDefault();
		api("GET", "exportJobs/" + id).then(function (r) {
			if (r.status !== 200) {
				say("Cannot download: " + errorText(r));
				return;
			}
			updateJob(r.body);
			var url = r.body["@microsoft.graph.downloadUrl"];
			if (url)
				window.location.assign(url);
			else
				say("This export has no file any more.", "info");
		}).catch(networkTrouble);
	}

	function cancelJob(j) {
		seen();
		api("DELETE", "exportJobs/" + j.id).then(function (r) {
			if (r.status !== 202 && r.status !== 204) {
				say("Cannot cancel " + jobLabel(j) + ": " +
				    errorText(r));
				return;
			}
			return refreshJob(j.id);
		}).catch(networkTrouble);
	}

	function deleteFile(j) {
		seen();
		if (!window.confirm("Delete the file of " + jobLabel(j) + "?"))
			return;
		api("DELETE", "exportJobs/" + j.id).then(function (r) {
			if (r.status !== 204) {
				say("Cannot delete the file: " + errorText(r));
				return;
			}
			return refreshJob(j.id);
		}).catch(networkTrouble);
	}

	function refreshJob(id) {
		return api("GET", "exportJobs/" + id).then(function (r) {
			if (r.status === 200) {
				updateJob(r.body);
				schedulePoll(2);
			}
		});
	}

	function rerun(j) {
		seen();
		createJob({ definitionId: j.definitionId,
		    parameters: j.parameters || {}, format: j.format },
		    null);
	}

	/*
	 * POST /exportJobs: the new export goes at the top of the list; a
	 * 409 says the same export is already running and shows it; a 400 is
	 * shown next to the field it names when it came from the form.
	 */
	function createJob(body, form) {
		if (starting)
			return Promise.resolve();
		starting = true;
		startButton.disabled = true;
		startButton.setAttribute("aria-busy", "true");
		clearFieldErrors();
		return api("POST", "exportJobs", body).then(function (r) {
			if (r.status === 201) {
				var j = r.body;
				var shown = !filterSelect.value ||
				    filterSelect.value === j.definitionId;
				if (shown && $("newest").hidden && !rowOf(j.id)) {
					jobs[j.id] = j;
					placeRow(renderRow(j), null);
					$("exports-empty").hidden = true;
				}
				result(form, "Started " + jobLabel(j) + ".",
				    "info");
				announce("Started " + jobLabel(j) + ".");
				schedulePoll(2);
			} else if (r.status === 409) {
				duplicate(r, form);
			} else if (r.status === 400 && form &&
			    fieldError(r.body && r.body.error)) {
				/* shown next to its field */
			} else {
				result(form, "The export was not started: " +
				    errorText(r), "error");
			}
		}).catch(networkTrouble).then(function () {
			starting = false;
			startButton.disabled = false;
			startButton.removeAttribute("aria-busy");
		});
	}

	/* Shows a line where the action came from: the form or the top. */
	function result(form, text, kind) {
		if (!form) {
			say(text, kind);
			return;
		}
		startResult.textContent = "";
		startResult.className = kind;
		startResult.setAttribute("role", kind === "error" ? "alert" :
		    "status");
		startResult.hidden = false;
		startResult.appendChild(typeof text === "string" ?
		    document.createTextNode(text) : text);
	}

	function duplicate(r, form) {
		var loc = r.headers.get("Location");
		var id = loc ? localPath(loc).split("/").pop() : null;
		var box = el("p", {}, ["The same export is already running. "]);
		if (!id) {
			box.appendChild(document.createTextNode("It was started " +
			    "by someone whose exports you cannot see, so it " +
			    "cannot be shown here; it may be waiting for " +
			    "approval or still being built."));
			result(form, box, "info");
			return;
		}
		var link = el("a", { href: "#export-" + id, text: "Show it",
		    "data-action": "show-duplicate" });
		link.addEventListener("click", function (ev) {
			ev.preventDefault();
			showJob(id);
		});
		box.appendChild(link);
		result(form, box, "info");
	}

	/* Brings the row of job id into view and focus, loading it if need. */
	function showJob(id) {
		var row = rowOf(id);
		if (row) {
			row.classList.add("highlight");
			row.focus();
			row.scrollIntoView({ block: "center" });
			return;
		}
		api("GET", "exportJobs/" + id).then(function (r) {
			if (r.status !== 200) {
				say("That export cannot be shown: " + errorText(r),
				    "info");
				return;
			}
			jobs[id] = r.body;
			placeRow(renderRow(r.body), null);
			showJob(id);
			schedulePoll(2);
		}).catch(networkTrouble);
	}

	/* ---------------------------------------------------------------- */
	/* the form of a definition */

	var INPUT = {
		date: { type: "date" },
		datetime: { type: "datetime-local", step: "1" },
		int: { type: "number", step: "1", inputmode: "numeric" },
		decimal: { type: "text", inputmode: "decimal" },
		string: { type: "text" }
	};

	var HINT = {
		date: "a date", datetime: "a date and time (your local time)",
		int: "a whole number", decimal: "a number, e.g. 12.50",
		string: "text"
	};

	function buildForm() {
		var d = defs[defSelect.value];
		paramFields.textContent = "";
		formatSelect.textContent = "";
		clearFieldErrors();
		startResult.hidden = true;
		if (!d)
			return;
		$("definition-description").textContent = d.description || "";
		(d.parameters || []).forEach(function (p) {
			var id = "param-" + p.name;
			var attrs = INPUT[p.type] || INPUT.string, k;
			var input = el("input", { id: id, name: p.name,
			    "data-type": p.type, "aria-describedby": id +
			    "-hint " + id + "-error", autocomplete: "off" });
			for (k in attrs)
				input.setAttribute(k, attrs[k]);
			if (p.required) {
				input.required = true;
				input.setAttribute("aria-required", "true");
			}
			paramFields.appendChild(el("div", { class: "field" }, [
				el("label", { for: id }, [p.name, p.required ?
				    el("span", { class: "required",
				    text: " (required)" }) : null]),
				input,
				el("p", { id: id + "-hint", class: "hint",
				    text: HINT[p.type] || p.type }),
				el("p", { id: id + "-error", class: "field-error",
				    hidden: "" })
			]));
		});
		$("parameters").hidden = !(d.parameters || []).length;
		(d.formats || []).forEach(function (f) {
			formatSelect.appendChild(el("option", { value: f,
			    text: f.toUpperCase() }));
		});
	}

	/* The parameters the form holds, in the API's notation. */
	function formParameters() {
		var out = {};
		Array.prototype.forEach.call(paramFields.querySelectorAll("input"),
		    function (i) {
			var v = i.value.trim();
			if (v === "")
				return;
			if (i.getAttribute("data-type") === "datetime") {
				var t = new Date(v);	/* local time */
				v = isNaN(t) ? v : t.toISOString().replace(
				    /\.\d{3}Z$/, "Z");
			}
			out[i.name] = v;
		});
		return out;
	}

	function clearFieldErrors() {
		Array.prototype.forEach.call(document.querySelectorAll(
		    "#start-form .field-error"), function (p) {
			p.hidden = true;
			p.textContent = "";
		});
		Array.prototype.forEach.call(document.querySelectorAll(
		    "#start-form [aria-invalid]"), function (i) {
			i.removeAttribute("aria-invalid");
		});
	}

	/* A 400 that names a field of the form: shown there.  True if so. */
	function fieldError(e) {
		var t = e && e.target, input = null, p = null;
		if (!t)
			return false;
		if (t === "format") {
			input = formatSelect;
			p = $("format-error");
		} else if (t.indexOf("parameters.") === 0) {
			input = $("param-" + t.slice(11));
			p = $("param-" + t.slice(11) + "-error");
		}
		if (!input || !p)
			return false;
		p.textContent = e.message;
		p.hidden = false;
		input.setAttribute("aria-invalid", "true");
		input.focus();
		return true;
	}

	/* ---------------------------------------------------------------- */
	/* approvals (admins) */

	/*
	 * The tenant's exports waiting for approval: Graph's filter knows
	 * status words only (SPEC section 5), so the not-started ones, page
	 * by page (10 pages of 1000 at most), kept when their state says so.
	 */
	function loadApprovals() {
		var waiting = [];
		if (!me || me.role !== "admin")
			return Promise.resolve();
		function page(path, left) {
			return api("GET", path).then(function (r) {
				if (r.status !== 200)
					return false;
				r.body.value.forEach(function (j) {
					if (stateOf(j) === "pending_approval")
						waiting.push(j);
				});
				if (r.body["@odata.nextLink"] && left > 1)
					return page(localPath(
					    r.body["@odata.nextLink"]), left - 1);
				return true;
			});
		}
		return page("exportJobs?$top=1000&$filter=" + encodeURIComponent(
		    "status eq 'notStarted'"), 10).then(function (ok) {
			if (!ok)
				return;
			var focused = document.activeElement;
			var keep = approvalRows.contains(focused) ?
			    [focused.closest("tr").getAttribute("data-id"),
			    focused.getAttribute("data-action")] : null;
			approvalRows.textContent = "";
			waiting.forEach(function (j) {
				approvalRows.appendChild(approvalRow(j));
			});
			$("approvals-empty").hidden = waiting.length > 0;
			$("approval-table").hidden = !waiting.length;
			if (keep) {
				var tr = approvalRows.querySelector(
				    "tr[data-id='" + keep[0] + "']");
				var c = tr && tr.querySelector(
				    "[data-action='" + keep[1] + "']");
				(c || $("approvals-title")).focus();
			}
		}).catch(networkTrouble);
	}

	function approvalRow(j) {
		var label = jobLabel(j), rid = "reason-" + j.id;
		var reason = el("input", { id: rid, type: "text",
		    "data-action": "reason", maxlength: "1000",
		    autocomplete: "off" });
		var approve = button("approve", "Approve", "Approve " + label,
		    function () { decide(j, "approve", null); });
		var reject = button("reject", "Reject", "Reject " + label,
		    function () { decide(j, "reject", reason.value.trim()); });
		return el("tr", { "data-id": j.id }, [
			exportCell(j),
			el("td", { "data-label": "Asked by", text: ownerText(j) }),
			el("td", { "data-label": "Asked" }, [
			    timeEl(j.createdDateTime)]),
			el("td", { "data-label": "Decision", class: "decision" }, [
				approve,
				el("label", { for: rid, class: "reason-label",
				    text: "Reason for rejecting " + label }),
				reason, reject
			])
		]);
	}

	function decide(j, verb, reason) {
		seen();
		api("POST", "exportJobs/" + j.id + "/" + verb,
		    verb === "reject" && reason ? { reason: reason } :
		    undefined).then(function (r) {
			if (r.status !== 200) {
				say("Cannot " + verb + " " + jobLabel(j) + ": " +
				    errorText(r));
				return loadApprovals();
			}
			announce((verb === "approve" ? "Approved " :
			    "Rejected ") + jobLabel(j) + ".");
			jobs[j.id] && updateJob(r.body);
			schedulePoll(2);
			return loadApprovals();
		}).catch(networkTrouble);
	}

	/* ---------------------------------------------------------------- */
	/* definitions (admins): list, create, replace, delete */

	var editing = null;	/* id of the definition edited, "" for new */

	function sourceText(d) {
		var src = d.source || {};
		if (src.dataset)
			return "dataset " + src.dataset;
		if (src.database)
			return "database " + src.database;
		if (src.command)
			return "program " + src.command;
		return Object.keys(src).join(", ");
	}

	function renderDefinitions() {
		var rows = $("definition-rows");
		if (!me || me.role !== "admin")
			return;
		$("definition-caption").textContent = "The definitions of " +
		    "tenant " + me.tenant;
		rows.textContent = "";
		defOrder.forEach(function (id) {
			var d = defs[id];
			var params = (d.parameters || []).map(function (p) {
				return p.name + " (" + p.type + (p.required ?
				    ", required" : "") + ")";
			}).join(", ");
			rows.appendChild(el("tr", { "data-id": id }, [
				el("td", { "data-label": "Name" }, [
				    el("strong", { text: d.name }),
				    d.approval ? el("div", { class: "params",
				    text: "needs approval" }) : null]),
				el("td", { "data-label": "Source",
				    text: sourceText(d) }),
				el("td", { "data-label": "Parameters",
				    text: params || "none" }),
				el("td", { "data-label": "Formats",
				    text: (d.formats || []).join(", ") }),
				el("td", { "data-label": "Actions",
				    class: "def-actions" }, [
					button("edit", "Edit", "Edit definition " +
					    d.name, function () { editDefinition(id); }),
					button("delete-definition", "Delete",
					    "Delete definition " + d.name,
					    function () { deleteDefinition(id); })
				])
			]));
		});
	}

	/* Opens the editor on definition id, or on a new one (null). */
	function editDefinition(id) {
		var doc, k;
		editing = id || "";
		if (id) {
			doc = {};
			for (k in defs[id])
				if (k !== "id" && k !== "createdDateTime" &&
				    k !== "modifiedDateTime")
					doc[k] = defs[id][k];
		} else
			doc = { name: "", source: { dataset: "" }, columns: [],
			    parameters: [], filters: [], formats: ["csv"],
			    approval: false, retention: "7d" };
		$("definition-form-title").textContent = id ? "Definition " +
		    defs[id].name + " (JSON)" : "New definition (JSON)";
		$("definition-json").value = JSON.stringify(doc, null, 2);
		$("definition-error").hidden = true;
		$("definition-json").removeAttribute("aria-invalid");
		$("definition-form").hidden = false;
		$("definition-json").focus();
	}

	function definitionError(text) {
		$("definition-error").textContent = text;
		$("definition-error").hidden = false;
		$("definition-json").setAttribute("aria-invalid", "true");
		$("definition-json").focus();
	}

	function saveDefinition() {
		var doc, id = editing;
		try {
			doc = JSON.parse($("definition-json").value);
		} catch (e) {
			definitionError("This is not JSON: " + e.message);
			return;
		}
		seen();
		$("save-definition").disabled = true;
		api(id ? "PUT" : "POST", "definitions" + (id ? "/" + id : ""),
		    doc).then(function (r) {
			if (r.status !== 200 && r.status !== 201) {
				var e = r.body && r.body.error;
				definitionError("Not saved: " + errorText(r) +
				    (e && e.target && e.message.indexOf(
				    e.target) < 0 ? " (at " + e.target + ")" :
				    ""));
				return;
			}
			$("definition-form").hidden = true;
			editing = null;
			announce("Saved definition " + r.body.name + ".");
			return loadDefinitions().then(function () {
				var b = document.querySelector("#definition-rows " +
				    "tr[data-id='" + r.body.id + "'] button");
				if (b)
					b.focus();
			});
		}).catch(networkTrouble).then(function () {
			$("save-definition").disabled = false;
		});
	}

	function deleteDefinition(id) {
		var name = defs[id].name;
		seen();
		if (!window.confirm("Delete definition " + name + "?"))
			return;
		api("DELETE", "definitions/" + id).then(function (r) {
			if (r.status !== 204) {
				say("Cannot delete definition " + name + ": " +
				    errorText(r));
				return;
			}
			announce("Deleted definition " + name + ".");
			return loadDefinitions().then(function () {
				$("new-definition").focus();
			});
		}).catch(networkTrouble);
	}

	/* ---------------------------------------------------------------- */
	/* signing in and out */

	function loadDefinitions() {
		var all = [];
		function page(path) {
			return api("GET", path).then(function (r) {
				if (r.status !== 200)
					throw new Error("cannot list the " +
					    "definitions: " + errorText(r));
				all = all.concat(r.body.value);
				if (r.body["@odata.nextLink"])
					return page(localPath(
					    r.body["@odata.nextLink"]));
			});
		}
		return page("definitions").then(function () {
			var keepDef = defSelect.value, keepFilter = filterSelect.value;
			defs = {};
			all.sort(function (a, b) {
				return a.name.localeCompare(b.name);
			});
			defOrder = all.map(function (d) {
				defs[d.id] = d;
				return d.id;
			});
			defSelect.textContent = "";
			filterSelect.textContent = "";
			filterSelect.appendChild(el("option", { value: "",
			    text: "every definition" }));
			defOrder.forEach(function (id) {
				var n = defs[id].name;
				defSelect.appendChild(el("option", { value: id,
				    text: n }));
				filterSelect.appendChild(el("option", { value: id,
				    text: n }));
			});
			if (defs[keepDef])
				defSelect.value = keepDef;
			if (defs[keepFilter])
				filterSelect.value = keepFilter;
			$("start-button").disabled = !defOrder.length;
			buildForm();
			renderDefinitions();
		});
	}

	function signedIn(who) {
		me = who;
		$("auth").hidden = true;
		$("who").hidden = false;
		$("who").textContent = "Signed in as " + (who.displayName ||
		    who.id) + " (" + who.role + ") of " + who.tenant + ".";
		$("sign-out").hidden = !token();
		$("start").hidden = false;
		$("exports").hidden = false;
		$("approvals").hidden = who.role !== "admin";
		$("definitions").hidden = who.role !== "admin";
		$("export-table").classList.toggle("with-owner",
		    who.role === "admin");
		$("export-caption").textContent = who.role === "admin" ?
		    "The exports of tenant " + who.tenant + ", newest first" :
		    "Your exports, newest first";
		$("notify").hidden = !(window.Notification &&
		    Notification.permission === "default");
		say("");
		return loadDefinitions().then(function () {
			return Promise.all([loadJobs(), loadApprovals()]);
		}).catch(function (e) {
			networkTrouble(e);
		});
	}

	function signOut(why) {
		sessionStorage.removeItem("quarry-token");
		me = null;
		gen++;
		stopPolling();
		jobs = {};
		exportRows.textContent = "";
		approvalRows.textContent = "";
		$("definition-form").hidden = true;
		["start", "exports", "approvals", "definitions", "who",
		    "sign-out"].forEach(
		    function (id) { $(id).hidden = true; });
		$("auth").hidden = false;
		tokenInput.value = "";
		say(why || "", why ? "error" : "");
		tokenInput.focus();
	}

	/* Who is this?  With a token, or as the web server signed them in. */
	function whoAmI() {
		return api("GET", "me").then(function (r) {
			if (r.status === 200)
				return signedIn(r.body);
			if (r.status === 401 && token())
				signOut("That token was refused: it is " +
				    "unknown, revoked or expired.");
			else if (r.status !== 401)
				say("Cannot sign in: " + errorText(r));
		}).catch(networkTrouble);
	}

	/* ---------------------------------------------------------------- */
	/* wiring */

	$("token-form").addEventListener("submit", function (ev) {
		ev.preventDefault();
		var t = tokenInput.value.trim();
		if (!t)
			return;
		sessionStorage.setItem("quarry-token", t);
		tokenInput.value = "";
		whoAmI();
	});
	$("sign-out").addEventListener("click", function () { signOut(""); });
	defSelect.addEventListener("change", buildForm);
	$("new-definition").addEventListener("click", function () {
		editDefinition(null);
	});
	$("cancel-definition").addEventListener("click", function () {
		$("definition-form").hidden = true;
		$("new-definition").focus();
	});
	$("definition-form").addEventListener("submit", function (ev) {
		ev.preventDefault();
		saveDefinition();
	});
	filterSelect.addEventListener("change", function () {
		loadJobs();
	});
	$("refresh").addEventListener("click", function () {
		seen();
		/* definitions may have come or gone since the sign-in */
		loadDefinitions().then(function () {
			loadJobs();
			loadApprovals();
		}).catch(networkTrouble);
	});
	$("older").addEventListener("click", function () {
		if (nextLink)
			loadJobs(localPath(nextLink)).then(function () {
				$("exports").focus();
			});
	});
	$("newest").addEventListener("click", function () {
		loadJobs().then(function () { $("exports").focus(); });
	});
	$("notify").addEventListener("click", function () {
		Notification.requestPermission().then(function () {
			$("notify").hidden = Notification.permission !==
			    "default";
		});
	});
	$("start-form").addEventListener("submit", function (ev) {
		ev.preventDefault();
		seen();
		createJob({ definitionId: defSelect.value,
		    parameters: formParameters(), format: formatSelect.value },
		    $("start-form"));
	});
	document.addEventListener("keydown", seen);
	document.addEventListener("pointerdown", seen);

	whoAmI();
})();
