"""
The published example requests of the three APIs Quarry speaks, as their
documents show them (docs/http.md, "Conformance with the published
examples"), for tests/conformance/run.py to replay against a real stack.

Each example holds the request and the response as published: the request
line, headers and body, and the status line, headers and body, as text.
Only what a replay cannot send as written is replaced, through `subst`
(published text -> a key the runner fills in): the host (and, for OSDI,
the sample system's API root), the ids, the tokens.  `needs` names the
state the example's answer shows (a job that is running, a rejected
export, ...), which the runner makes first.

Where Quarry deliberately answers otherwise than a document, or where the
document contradicts itself, the example says so in `differences`: a
list of Difference(what, why, **how), where how tells the checker what to
accept instead.  The same list is in docs/http.md.  Nothing else is
allowed to differ: a member the document shows must be there, in the
document's order; a member Quarry adds must be declared; a status word
must be one the API publishes.

Sources (the stored public documents, by repository, path and commit):
  Graph:  microsoftgraph/microsoft-graph-docs-contrib,
          api-reference/beta/api/goals-post-exportjobs.md @4e11c27,
          goals-list-exportjobs.md @2490e9f, goalsexportjob-get.md @66551ed
  Concur: SAP-docs/preview.developer.concur.com,
          src/api-reference/common/extracts/v1.extracts.markdown @605c5e7
          (the same examples as concur/developer.concur.com)
  OSDI:   opensupporter/osdi-docs, exports.md @470ed87 (pull request 250,
          the Export resource proposal; never merged into the published
          pages, the only text of OSDI's Export there is)
"""


class Difference:
    """A deliberate difference from the document, with its reason.  how:
      status=N            Quarry answers N instead of the published code
      extra=[names]       members (or elements) Quarry adds
      missing=[names]     published members Quarry leaves out
      order=False         the members' order is not checked (the document
                          gives two orders; Quarry follows another example)
      words={pub: ours}   a published status word Quarry spells otherwise
      values={name: v}    a published value Quarry words otherwise
      nullable=[names]    members that may be null where the example
                          shows a value (not yet known)
      unwrap="value"      the published body wraps the answer in that
                          member; Quarry answers the object itself
      body=False          the published body is not compared (a
                          placeholder, or Quarry answers with more)
      location=False      the published Location is not checked
      header=(name, why)  only the header's presence is checked
      shapes=[[tags]]     further element sequences a list may hold
    """

    def __init__(self, what, why, **how):
        self.what = what
        self.why = why
        self.how = how


class Example:
    def __init__(self, api, title, source, request, response, subst=None,
                 needs=(), differences=(), auth=None):
        self.api = api
        self.title = title
        self.source = source
        self.request = request
        self.response = response
        self.subst = subst or {}
        self.needs = needs
        self.differences = list(differences)
        self.auth = auth            # a header the example leaves out

    def how(self, key, default=None):
        """The differences' accepted alternatives for key, merged."""
        out = default
        for d in self.differences:
            if key in d.how:
                v = d.how[key]
                if isinstance(v, list):
                    out = (out or []) + v
                elif isinstance(v, dict):
                    out = dict(out or {}, **v)
                else:
                    out = v
        return out


# Status words each API publishes (docs/http.md maps Quarry's states).
WORDS = {
    "graph": {"notStarted", "running", "succeeded", "failed",
              "unknownFutureValue"},
    "concur": {"Queued", "Running", "Completed", "Failed"},
    "osdi": {"initalizing", "pending_approval", "rejected", "queued",
             "processing", "ready", "expired"},
}

GRAPH_HOST = "https://graph.microsoft.com"
CONCUR_HOST = "https://www.concursolutions.com"
OSDI_ROOT = "https://osdi-sample-system.org/api/v1"

GRAPH_SRC = "microsoft-graph-docs-contrib api-reference/beta/api/"
CONCUR_SRC = ("preview.developer.concur.com src/api-reference/common/"
              "extracts/v1.extracts.markdown @605c5e7")
OSDI_SRC = "osdi-docs exports.md @470ed87 (pull request 250)"

# ---- differences shared by several examples ----

GRAPH_AUTH = Difference(
    "the request carries Authorization: Bearer",
    "the examples leave out the header their header table says is "
    "required")
GRAPH_LOCATION_QUOTED = Difference(
    "Location is a bare URL",
    "the document writes the header's value in double quotes, which is "
    "not a URI reference")
GRAPH_EXTRAS = Difference(
    "lastActionDateTime and statusDetail follow the published members",
    "they are longRunningOperation's, which goalsExportJob inherits; the "
    "examples leave them out", extra=["lastActionDateTime",
                                      "statusDetail"])
GRAPH_GET_ORDER = Difference(
    "members in the order of the Get examples",
    "the documents give three orders (the Create example puts "
    "createdDateTime before status, the List examples resourceLocation "
    "after explorerViewId); Quarry follows the Get examples", order=False)
GRAPH_WRAPPED = Difference(
    "the job is the body itself, not {\"value\": {...}}",
    "the Get examples wrap one job in \"value\", unlike the Create example "
    "and OData's form of an entity", unwrap="value")
GRAPH_TARGET = Difference(
    "error.target names the member at fault",
    "Quarry names the input of every 400 and 404 (docs/http.md)",
    extra=["target"])
GRAPH_CLIENT_REQUEST_ID = Difference(
    "innerError.client-request-id only when the client sent one",
    "it echoes the client-request-id request header, which the example "
    "request does not carry", missing=["client-request-id"])
GRAPH_RETRY_AFTER = Difference(
    "Retry-After: 2", "the example's 60 is an example; Quarry asks for a "
    "poll every two seconds", header=("Retry-After", "value"))
GRAPH_EXPIRES_LATER = Difference(
    "expirationDateTime is null until the job succeeded",
    "the file's expiry is known only once it exists",
    nullable=["expirationDateTime"])

CONCUR_NS = Difference(
    "the namespace is http://www.concursolutions.com/api/expense/"
    "extract/2010/02",
    "this example writes it as the placeholder xmlns=\"...\"")
CONCUR_COMPLETE = Difference(
    "Completed, not Complete",
    "the job list and job examples say Complete, the job status example "
    "and the documented list of values (Queued, Running, Completed, "
    "Failed) say Completed", words={"Complete": "Completed"})
CONCUR_AUTH = Difference(
    "Authorization: OAuth with the caller's token",
    "the example's {token} placeholder")

OSDI_ROOT_DIFF = Difference(
    "the API root is Quarry's /osdi/v1",
    "the sample system's root is /api/v1; OSDI leaves the root to each "
    "system (clients find it from the entry point)")
OSDI_HEADER_LABEL = Difference(
    "OSDI-API-Token is sent as a header",
    "the example writes a \"Header:\" label line before it")
OSDI_TYPE = Difference(
    "export_type (the file format) instead of export_template",
    "the later revision renamed export_type to export_template (a "
    "template of columns and file type); a Quarry export's template is "
    "its definition (osdi:resource), and its file type is export_type, as "
    "in the first revision; export_template is accepted on create where "
    "it names a format", extra=["export_type"], missing=["export_template"])
OSDI_DETAIL = Difference(
    "detail is always there", "the field table lists it; the examples "
    "show it only where it holds text", extra=["detail"])
OSDI_DOWNLOAD_LINK = Difference(
    "_links.osdi:download beside download_link, and signed_download_link",
    "HAL's form of the same link; and a short-lived signed link that "
    "needs no token (docs/http.md)", extra=["osdi:download",
                                            "signed_download_link"])
OSDI_APPROVED = Difference(
    "approved_date is null unless an admin approved the export",
    "an export of a definition without approval was never approved; the "
    "example's ready export was", nullable=["approved_date"])
OSDI_DATES = Difference(
    "approved_date and processed_date are always there (null until then)",
    "the field table lists them; the examples leave them out of an export "
    "that has none", extra=["approved_date", "processed_date"])


# ---- Microsoft Graph: goalsExportJob ----

GRAPH_CREATE_REQUEST = """\
POST https://graph.microsoft.com/beta/employeeExperience/goals/exportJobs
Content-Type: application/json

{
  "goalsOrganizationId": "String",
  "explorerViewId": "String"
}
"""

GRAPH_JOB_SUCCEEDED = """\
HTTP/1.1 200 OK
Content-Type: application/json

{
  "value": {
    "@odata.type": "#microsoft.graph.goalsExportJob",
    "id": "j!eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In0",
    "status": "succeeded",
    "resourceLocation": "https://graph.microsoft.com/beta/employeeexperience/goals/exportJobs/j!eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In0/content",
    "goalsOrganizationId": "9ab0fcab-c1d4-4b26-963b-a3c33155f853",
    "explorerViewId": "2c8b5fd3-67c3-4677-8eb3-e0066c4d2fd7",
    "createdDateTime": "2023-06-19T12-06-03.0024Z",
    "expirationDateTime": "2023-07-29T12-06-03.0024Z"
  }
}
"""

GRAPH_LIST_JOB = """\
HTTP/1.1 200 OK
Content-Type: application/json

{
  "value": [
    {
      "@odata.type": "#microsoft.graph.goalsExportJob",
      "id": "%s",
      "status": "succeeded",
      "goalsOrganizationId": "%s",
      "explorerViewId": "2c8b5fd3-67c3-4677-8eb3-e0066c4d2fd7",
      "resourceLocation": "https://graph.microsoft.com/beta/employeeexperience/goals/exportJobs/%s/content",
      "createdDateTime": "2023-06-19T12-06-03.0024Z",
      "expirationDateTime": "2023-07-29T12-06-03.0024Z"
    }
  ]
}
"""

GRAPH_ID = "j!eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In0"
GRAPH_SUBST = {
    GRAPH_HOST: "{root}",
    # the explorer-view URL's ids, as the document explains them
    "9ab0fcab-c1d4-4b26-963b-a3c33155f853": "{org}",
    "3d9a8150-90fd-42bd-9777-25ba783d4a05": "{org}",
    "2c8b5fd3-67c3-4677-8eb3-e0066c4d2fd7": "{view}",
}


def graph_get(state, title, response, differences=()):
    return Example(
        "graph", title, GRAPH_SRC + "goalsexportjob-get.md @66551ed",
        "GET https://graph.microsoft.com/beta/employeeExperience/goals/"
        "exportJobs/j!eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In0\n",
        response, dict(GRAPH_SUBST, **{GRAPH_ID: "{job:%s}" % state}),
        needs=("job:" + state,),
        differences=[GRAPH_AUTH, GRAPH_WRAPPED, GRAPH_EXTRAS] +
        list(differences), auth="graph")


EXAMPLES = [
    Example(
        "graph", "Create goalsExportJob, example 1: status is notStarted",
        GRAPH_SRC + "goals-post-exportjobs.md @4e11c27",
        GRAPH_CREATE_REQUEST, """\
HTTP/1.1 201 Created
Content-Type: application/json
Location: "https://graph.microsoft.com/beta/employeeexperience/goals/exportJobs/j!uJJZyGd87hGFgvZV8bl-GlCBmj39kL1Cl3clung9SgU"

{
  "@odata.type": "#microsoft.graph.goalsExportJob",
  "id": "9eb0bfa0-eaa1-b225-1f83-54ae3e711753",
  "createdDateTime": "String (timestamp)",
  "status": "String"
}
""", dict(GRAPH_SUBST, **{'"String",\n  "explorerViewId": "String"':
                          '"{org}",\n  "explorerViewId": "{view:fresh}"',
                          "j!uJJZyGd87hGFgvZV8bl-GlCBmj39kL1Cl3clung9SgU":
                          "{created}"}),
        differences=[GRAPH_AUTH, GRAPH_LOCATION_QUOTED, GRAPH_GET_ORDER,
                     GRAPH_EXTRAS, GRAPH_EXPIRES_LATER, Difference(
                         "goalsOrganizationId, explorerViewId and "
                         "expirationDateTime are in the answer",
                         "the resource lists them and the Get examples "
                         "show them; this example shows only four members",
                         extra=["goalsOrganizationId", "explorerViewId",
                                "expirationDateTime"])],
        auth="graph"),
    Example(
        "graph", "Create goalsExportJob, example 2: conflicting",
        GRAPH_SRC + "goals-post-exportjobs.md @4e11c27",
        GRAPH_CREATE_REQUEST, """\
HTTP/1.1 409 Conflict
Content-type: application/json
Location: "https://graph.microsoft.com/beta/employeeexperience/goals/exportJobs/j!uJJZyGd87hGFgvZV8bl-GlCBmj39kL1Cl3clung9SgU"

{
    "error":
    {
        "code": "notAllowed",
        "message": "Another export job is still active or waiting to be executed",
        "target": "j!uJJZyGd87hGFgvZV8bl-GlCBmj39kL1Cl3clung9SgU",
        "innerError":
        {
            "code": "exportJobAlreadyExists",
            "date": "String (timestamp)",
            "request-id": "String",
            "client-request-id": "String"
        }
    }
}
""", dict(GRAPH_SUBST, **{'"String",\n  "explorerViewId": "String"':
                          '"{org}",\n  "explorerViewId": "{view:pending}"',
                          "j!uJJZyGd87hGFgvZV8bl-GlCBmj39kL1Cl3clung9SgU":
                          "{job:pending}"}),
        needs=("job:pending",),
        differences=[GRAPH_AUTH, GRAPH_LOCATION_QUOTED,
                     GRAPH_CLIENT_REQUEST_ID, Difference(
                         "innerError, not innererror",
                         "this example alone spells it in lower case; "
                         "every other example (and Graph's error format) "
                         "says innerError")],
        auth="graph"),
    Example(
        "graph", "Create goalsExportJob, example 3: the organization "
        "does not exist", GRAPH_SRC + "goals-post-exportjobs.md @4e11c27",
        GRAPH_CREATE_REQUEST, """\
HTTP/1.1 404 Not Found
Content-type: application/json

{
    "error": {
        "code": "notFound",
        "message": "Goals organization not found",
        "innerError": {
            "code": "goalsOrganizationIdNotFound",
            "date": "String (timestamp)",
            "request-id": "String",
            "client-request-id": "String"
        }
    }
}
""", dict(GRAPH_SUBST, **{'"String",\n  "explorerViewId": "String"':
                          '"94a356ab-53d5-40e7-8a85-053d6d3b9eb3",\n  '
                          '"explorerViewId": "{view:plain}"'}),
        differences=[GRAPH_AUTH, GRAPH_TARGET, GRAPH_CLIENT_REQUEST_ID,
                     Difference("an unknown organization is sent",
                                "\"String\" stands for an id; the id of "
                                "the document's explorer-view URL is sent")],
        auth="graph"),
    Example(
        "graph", "Create goalsExportJob, example 4: invalid organization",
        GRAPH_SRC + "goals-post-exportjobs.md @4e11c27",
        GRAPH_CREATE_REQUEST, """\
HTTP/1.1 400 Bad Request
Content-type: application/json

{
    "error": {
        "code": "badRequest",
        "message": "'GoalsOrganizationId' must be specified in 'Export Job', and it should be a valid GUID.",
        "innerError": {
            "code": "invalidGoalsOrganizationId",
            "date": "String (timestamp)",
            "request-id": "String",
            "client-request-id": "String"
        }
    }
}
""", dict(GRAPH_SUBST, **{'"String",\n  "explorerViewId": "String"':
                          '"",\n  "explorerViewId": "{view:plain}"'}),
        differences=[GRAPH_AUTH, GRAPH_TARGET, GRAPH_CLIENT_REQUEST_ID,
                     Difference(
                         "an empty organization is the invalid one; the "
                         "message says \"a string\", not \"a valid GUID\"",
                         "Quarry's organizations are its tenants, named by "
                         "their names, so any other string names one that "
                         "is not found (404)",
                         values={"message": "'GoalsOrganizationId' must be "
                                 "specified in 'Export Job', and it should "
                                 "be a string"})],
        auth="graph"),
    Example(
        "graph", "List exportJobs, example 1",
        GRAPH_SRC + "goals-list-exportjobs.md @2490e9f",
        "GET https://graph.microsoft.com/beta/employeeExperience/goals/"
        "exportJobs\n",
        GRAPH_LIST_JOB % ("eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In0",
                          "9ab0fcab-c1d4-4b26-963b-a3c33155f853",
                          "eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In0"),
        dict(GRAPH_SUBST), needs=("job:succeeded",),
        differences=[GRAPH_AUTH, GRAPH_GET_ORDER, GRAPH_EXTRAS],
        auth="graph"),
    Example(
        "graph", "List exportJobs, example 2: $filter on "
        "goalsOrganizationId", GRAPH_SRC + "goals-list-exportjobs.md "
        "@2490e9f",
        "GET https://graph.microsoft.com/beta/employeeexperience/goals/"
        "exportJobs?$filter= goalsOrganizationId eq "
        "'3d9a8150-90fd-42bd-9777-25ba783d4a05'\n",
        GRAPH_LIST_JOB % ("fyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In0",
                          "3d9a8150-90fd-42bd-9777-25ba783d4a05",
                          "fyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In0"),
        dict(GRAPH_SUBST), needs=("job:succeeded",),
        differences=[GRAPH_AUTH, GRAPH_GET_ORDER, GRAPH_EXTRAS, Difference(
            "the query is sent percent-encoded",
            "the document writes blanks and quotes in the URL as they are, "
            "which HTTP does not allow")], auth="graph"),
    Example(
        "graph", "List exportJobs, example 3: $filter on another member",
        GRAPH_SRC + "goals-list-exportjobs.md @2490e9f",
        "GET https://graph.microsoft.com/beta/employeeexperience/goals/"
        "exportJobs?$filter= explorerViewId eq "
        "\u20189ab0fcab-c1d4-4b26-963b-a3c33155f853\u2019 \n", """\
HTTP/1.1 400 Bad Request
Content-type: application/json

{
    "error": {
        "code": "badRequest",
        "message": "Invalid filter keys found: explorerViewId",
        "innerError": {
            "code": "unknown",
            "date": "String (timestamp)",
            "request-id": "String",
            "client-request-id": "String"
        }
    }
}
""", {GRAPH_HOST: "{root}"},
        differences=[GRAPH_AUTH, GRAPH_TARGET, GRAPH_CLIENT_REQUEST_ID,
                     Difference("the query is sent percent-encoded "
                                "(typographic quotes as UTF-8)",
                                "HTTP does not allow them as they are")],
        auth="graph"),
    graph_get("running", "Get goalsExportJob, example 1: status is "
              "running", """\
HTTP/1.1 200 OK
Retry-After: 60
Content-Type: application/json

{
  "value": {
    "@odata.type": "#microsoft.graph.goalsExportJob",
    "id": "j!eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In0",
    "status": "running",
    "goalsOrganizationId": "9ab0fcab-c1d4-4b26-963b-a3c33155f853",
    "explorerViewId": "2c8b5fd3-67c3-4677-8eb3-e0066c4d2fd7",
    "createdDateTime": "2023-06-19T12-06-03.0024Z",
    "expirationDateTime": "2023-07-29T12-06-03.0024Z"
  }
}
""", [GRAPH_RETRY_AFTER, GRAPH_EXPIRES_LATER]),
    graph_get("succeeded", "Get goalsExportJob, example 2: status is "
              "succeeded", GRAPH_JOB_SUCCEEDED),
    graph_get("pending", "Get goalsExportJob, example 3: status is "
              "notStarted", """\
HTTP/1.1 200 OK
Content-Type: application/json

{
  "value": {
    "@odata.type": "#microsoft.graph.goalsExportJob",
    "id": "j!eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In0",
    "status": "notStarted",
    "goalsOrganizationId": "9ab0fcab-c1d4-4b26-963b-a3c33155f853",
    "explorerViewId": "2c8b5fd3-67c3-4677-8eb3-e0066c4d2fd7",
    "createdDateTime": "2023-06-19T12-06-03.0024Z",
    "expirationDateTime": "2023-07-29T12-06-03.0024Z"
  }
}
""", [GRAPH_EXPIRES_LATER, Difference(
        "Retry-After while notStarted too",
        "a client should wait before it polls a job that has not started "
        "as well as a running one; the example shows no header",
        header=("Retry-After", "extra"))]),
    Example(
        "graph", "Get goalsExportJob, example 4: the job is not found",
        GRAPH_SRC + "goalsexportjob-get.md @66551ed",
        "GET https://graph.microsoft.com/beta/employeeExperience/goals/"
        "exportJobs/j!eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In1\n", """\
HTTP/1.1 404 Not Found
Content-type: application/json

{
    "error": {
        "code": "notFound",
        "message": "Specified export job not found",
        "innerError": {
            "code": "exportJobNotFound",
            "date": "String (Timestamp)",
            "request-id": "String",
            "client-request-id": "String"
        }
    }
}
""", dict(GRAPH_SUBST, **{"j!eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In1":
                          "{job:unknown}"}),
        differences=[GRAPH_AUTH, GRAPH_CLIENT_REQUEST_ID, Difference(
            "a well-formed id of no job is sent",
            "the example's id has a character Quarry's ids never hold "
            "(which is example 5's case)")], auth="graph"),
    Example(
        "graph", "Get goalsExportJob, example 5: an invalid job id",
        GRAPH_SRC + "goalsexportjob-get.md @66551ed",
        "GET https://graph.microsoft.com/beta/employeeExperience/goals/"
        "exportJobs/j!eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMj\n", """\
HTTP/1.1 400 Bad Request
Content-type: application/json

{
    "error": {
        "code": "badRequest",
        "message": "Invalid JobKey specified",
        "innerError": {
            "code": "unknown",
            "date": "String (Timestamp)",
            "request-id": "String",
            "client-request-id": "String"
        }
    }
}
""", {GRAPH_HOST: "{root}"},
        differences=[GRAPH_AUTH, GRAPH_CLIENT_REQUEST_ID], auth="graph"),
    Example(
        "graph", "Get goalsExportJob, example 6: the content",
        GRAPH_SRC + "goalsexportjob-get.md @66551ed",
        "GET https://graph.microsoft.com/beta/employeeExperience/goals/"
        "exportJobs/j!eyJfdHlwZSI6Ikdyb3VwIiwiaWQiOiI4MzIxMjc1In0/content\n",
        """\
HTTP/1.1 200 OK
Content-type: text/csv

{
  Model as EDM.Stream
}
""", dict(GRAPH_SUBST, **{GRAPH_ID: "{job:succeeded}"}),
        needs=("job:succeeded",),
        differences=[GRAPH_AUTH, Difference(
            "the body is the file", "the example's body is a placeholder",
            body=False)], auth="graph"),

    # ---- SAP Concur: Extracts v1 ----

    Example(
        "concur", "Get an array of extract definitions", CONCUR_SRC, """\
GET https://www.concursolutions.com/api/expense/extract/v1.0/
Authorization: OAuth {token}
""", """\
HTTP/1.1 200 OK
Content-Type: application/xml

<definitions xmlns="http://www.concursolutions.com/api/expense/extract/2010/02">
  <definition>
    <id>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd</id>
    <job-link>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job</job-link>
    <name>Standard Accounting Extract</name>
  </definition>
  <definition>
    <id>https://www.concursolutions.com/api/expense/extract/v1.0/Umj$swS19lpd7Sk$phUYl67wE1ss4Q$shu</id>
    <job-link>https://www.concursolutions.com/api/expense/extract/v1.0/Umj$swS19lpd7Sk$phUYl67wE1ss4Q$shu</job-link>
    <name>European Extract</name>
  </definition>
  <definition>
    <id>https://www.concursolutions.com/api/expense/extract/v1.0/8LjhN23Hs33$piUUfy4ytTqa$sqqacYeP1</id>
    <job-link>https://www.concursolutions.com/api/expense/extract/v1.0/8LjhN23Hs33$piUUfy4ytTqa$sqqacYeP1</job-link>
    <name>Asian Extract</name>
  </definition>
</definitions>
""", {CONCUR_HOST: "{root}", "{token}": "{token}"},
        differences=[CONCUR_AUTH, Difference(
            "every job-link ends in /job",
            "two of the example's three job-links lack it, unlike the "
            "first and the schema's description (\"the extract job URI\")")]),
    Example(
        "concur", "Get a single extract definition", CONCUR_SRC, """\
GET https://www.concursolutions.com/api/expense/extract/v1.0/n59FpBJ8hN3qVWTFIrtxkOT5pef6DmIj3
Authorization: OAuth {token}
""", """\
HTTP/1.1 200 OK
Content-Type: application/xml

<definition xmlns="http://www.concursolutions.com/api/expense/extract/2010/02" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
    <id>https://www.concursolutions.com/api/expense/extract/v1.0/n59FpBJ8hN3qVWTFIrtxkOT5$pef6DmIj3</id>
    <name>AMEX Remittance - US</name>
    <job-link>https://www.concursolutions.com/api/expense/extract/v1.0/n59FpBJ8hN3qVWTFIrtxkOT5$pef6DmIj3/job</job-link>
</definition>
""", {CONCUR_HOST: "{root}", "{token}": "{token}",
      "n59FpBJ8hN3qVWTFIrtxkOT5pef6DmIj3": "{def}",
      "n59FpBJ8hN3qVWTFIrtxkOT5$pef6DmIj3": "{def}"},
        differences=[CONCUR_AUTH, Difference(
            "the id asked is the id answered",
            "the example asks for ...OT5pef6DmIj3 and answers ...OT5$pef6"
            "DmIj3")]),
    Example(
        "concur", "Get an extract file (a single file)", CONCUR_SRC, """\
GET https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uIo87jk3SHudi$sdlYle8$peot$pD21jyd/file
Authorization: OAuth {token}
""", """\
HTTP/1.1 200 OK
Content-Type: text/csv

100,AAA,BBBB,CCCC,...<rest of file>
""", {CONCUR_HOST: "{root}", "{token}": "{token}",
      "nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd": "{def}",
      "uIo87jk3SHudi$sdlYle8$peot$pD21jyd": "{job:succeeded}"},
        needs=("job:succeeded",),
        differences=[CONCUR_AUTH, Difference(
            "the body is the file", "the example's body is a placeholder",
            body=False)]),
    Example(
        "concur", "Get an extract file (multiple files)", CONCUR_SRC, """\
GET https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uIo87jk3SHudi$sdlYle8$peot$pD21jyd/file
Authorization: OAuth {token}
""", """\
HTTP/1.1 200 OK
Content-Type: application/zip

{ zip archive data}
""", {CONCUR_HOST: "{root}", "{token}": "{token}",
      "nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd": "{def:split}",
      "uIo87jk3SHudi$sdlYle8$peot$pD21jyd": "{job:split}"},
        needs=("job:split",),
        differences=[CONCUR_AUTH, Difference(
            "the body is the zip archive",
            "the example's body is a placeholder", body=False)]),
    Example(
        "concur", "Get an array of extract jobs", CONCUR_SRC, """\
GET https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job HTTP/1.1
Authorization: OAuth {token}
""", """\
HTTP/1.1 200 OK
Content-Type: application/xml

<jobs xmlns="...">
  <job>
    <id>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uIo87jk3SHudi$sdlYle8$peot$pD21jyd</id>
    <status-link>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uIo87jk3SHudi$sdlYle8$peot$pD21jyd/status</status-link>
    <start-time>2010-01-13T18:30:02Z</start-time>
    <status>Queued</status>
  </job>
  <job>
    <id>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/21UwwqA3jk25Lis77jF$piiD21c89lLwEq</id>
    <status-link>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/21UwwqA3jk25Lis77jF$piiD21c89lLwEq/status</status-link>\u00a0
    <start-time>2010-01-13T18:30:02Z</start-time>
    <stop-time>2010-01-13T18:30:50Z</stop-time>
    <status>Complete</status>
    <file-link>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/21UwwqA3jk25Lis77jF$piiD21c89lLwEq/file</file-link>
  </job>
  <job>
    <id>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uI77ndy0Q1szuU73XSh56lshi$p215gHs1</id>
    <status-link>https://www.concursolutions.com/api/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uI77ndy0Q1szuU73XSh56lshi$p215gHs1/status</status-link>
    <start-time>2010-01-12T18:30:01Z</start-time>
    <stop-time>2010-01-12T18:31:01Z</stop-time>
    <status>Complete</status>
    <file-link>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uI77ndy0Q1szuU73XSh56lshi$p215gHs1/file</file-link>
  </job>
</jobs>
""", {CONCUR_HOST: "{root}", "{token}": "{token}",
      "nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd": "{def}",
      '<jobs xmlns="...">': '<jobs xmlns="http://www.concursolutions.com'
      '/api/expense/extract/2010/02">'},
        needs=("job:succeeded", "job:queued"),
        differences=[CONCUR_AUTH, CONCUR_NS, CONCUR_COMPLETE, Difference(
            "every status-link is under /api/expense/extract/v1.0",
            "the third job's status-link lacks /expense/"), Difference(
            "a failed job: stop-time and status, no file-link",
            "no example shows a failed job; the schema has stop-time once "
            "the job no longer runs and file-link only for a file",
            shapes=[["id", "status-link", "start-time", "stop-time",
                     "status"]])]),
    Example(
        "concur", "Get a single extract job", CONCUR_SRC, """\
GET https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uIo87jk3SHudi$sdlYle8$peot$pD21jyd
Authorization: OAuth {token}
""", """\
HTTP/1.1 200 OK
Content-Type: application/xml

<job xmlns="...">
  <id>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uIo87jk3SHudi$sdlYle8$peot$pD21jyd></id>
  <status-link>https://www.concursolutions.com/api/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uIo87jk3SHudi$sdlYle8$peot$pD21jyd/status</status-link>
  <start-time>2010-01-12T18:30:01</start-time>
  <stop-time>2010-01-12T18:31:01</stop-time>
  <status>Complete</status>
  <file-link> https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uIo87jk3SHudi$sdlYle8$peot$pD21jyd/file</file-link>
</job>
""", {CONCUR_HOST: "{root}", "{token}": "{token}",
      "nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd": "{def}",
      "uIo87jk3SHudi$sdlYle8$peot$pD21jyd": "{job:succeeded}",
      '<job xmlns="...">': '<job xmlns="http://www.concursolutions.com'
      '/api/expense/extract/2010/02">'},
        needs=("job:succeeded",),
        differences=[CONCUR_AUTH, CONCUR_NS, CONCUR_COMPLETE, Difference(
            "times in UTC with Z; links without stray characters",
            "the example's times lack the Z of the others, its id ends in "
            "a stray \">\", its file-link starts with a blank and its "
            "status-link lacks /expense/")]),
    Example(
        "concur", "Get a single extract job status", CONCUR_SRC, """\
https://www.concursolutions.com/api/expense/extract/v1.0/nX8O9$pytn6vJEWvLOZxyy3GcNGyj0ZklG/job/nIJp1lR2R0LNT4XcO5fXG$s$sZmVuRTuG$ps/status
{Header}: {Value}
""", """\
HTTP/1.1 200 OK
Content-Type: application/xml

<job xmlns="http://www.concursolutions.com/api/expense/extract/2010/02" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
  <id>https://www.concursolutions.com/api/expense/extract/v1.0/nX8O9$pytn6vJEWvLOZxyy3GcNGyj0ZklG/job/nIJp1lR2R0LNT4XcO5fXG$s$sZmVuRTuG$ps</id>
  <status-link>https://www.concursolutions.com/api/expense/extract/v1.0/nX8O9$pytn6vJEWvLOZxyy3GcNGyj0ZklG/job/nIJp1lR2R0LNT4XcO5fXG$s$sZmVuRTuG$ps/status</status-link>
  <start-time>2011-08-25T14:25:22.58</start-time>
  <stop-time>2011-08-25T14:25:23.537</stop-time>
  <status>Completed</status>
  <file-link>https://www.concursolutions.com/api/expense/extract/v1.0/nX8O9$pytn6vJEWvLOZxyy3GcNGyj0ZklG/job/nIJp1lR2R0LNT4XcO5fXG$s$sZmVuRTuG$ps/file</file-link>
</job>
""", {CONCUR_HOST: "{root}", "{Header}: {Value}":
      "Authorization: OAuth {token}",
      "nX8O9$pytn6vJEWvLOZxyy3GcNGyj0ZklG": "{def}",
      "nIJp1lR2R0LNT4XcO5fXG$s$sZmVuRTuG$ps": "{job:succeeded}"},
        needs=("job:succeeded",),
        differences=[Difference(
            "sent as GET with Authorization: OAuth",
            "the example shows the URL without a method and a "
            "{Header}: {Value} placeholder"), Difference(
            "times to the second, with Z",
            "the example's times carry fractions and no Z, unlike the "
            "other examples")]),
    Example(
        "concur", "Post an extract job initiation request", CONCUR_SRC, """\
POST https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job
Authorization: OAuth {token}
Content-Type: application/xml

<definition xmlns="http://www.concursolutions.com/api/expense/extract/2010/02">
  <id>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd</id>
</definition>
""", """\
HTTP/1.1 201 Created
Location: https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uIo87jk3SHudi$sdlYle8$peot$pD21jyd
Content-Type: application/xml

<job xmlns="...">
  <id>https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uIo87jk3SHudi$sdlYle8$peot$pD21jyd</id>
  <status-link> https://www.concursolutions.com/api/expense/extract/v1.0/nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd/job/uIo87jk3SHudi$sdlYle8$peot$pD21jyd/status</status-link>
  <start-time>2010-01-13T18:30:02Z</start-time>
  <status>Queued</status>
</job>
""", {CONCUR_HOST: "{root}", "{token}": "{token}",
      "nYoPK$pZmcowMRUqcl5bnDAwwsMydyt$xd": "{def:post}",
      "uIo87jk3SHudi$sdlYle8$peot$pD21jyd": "{created}",
      '<job xmlns="...">': '<job xmlns="http://www.concursolutions.com'
      '/api/expense/extract/2010/02">'},
        differences=[CONCUR_AUTH, CONCUR_NS, Difference(
            "Queued, or Running if the scheduler took the job already",
            "the job is built at once; the example shows it before it "
            "began", words={"Queued": "Queued|Running|Completed"})]),

    # ---- OSDI: Export (the proposal of pull request 250) ----

    Example(
        "osdi", "Retrieving a collection of Export resources (GET)",
        OSDI_SRC, """\
GET https://osdi-sample-system.org/api/v1/exports

Header:
OSDI-API-Token:[your api key here]
""", """\
HTTP/1.1 200 OK
Content-Type: application/hal+json
Cache-Control: max-age=0, private, must-revalidate

{
    "total_pages": 10,
    "per_page": 25,
    "page": 1,
    "total_records": 250,
    "_links": {
        "next": {
            "href": "https://osdi-sample-system.org/api/v1/exports?page=2"
        },
        "osdi:exports": [
            {
                "href": "https://osdi-sample-system.org/api/v1/exports/d91b4b2e-ae0e-4cd3-9ed7-d0ec501b0bc3"
            },
            {
                "href": "https://osdi-sample-system.org/api/v1/exports/1efc3644-af25-4253-90b8-a0baf12dbd1e"
            }
        ],
        "curies": [
            {
                "name": "osdi",
                "href": "https://osdi-sample-system.org/docs/v1/{rel}",
                "templated": true
            }
        ],
        "self": {
            "href": "https://osdi-sample-system.org/api/v1/exports/c945d6fe-929e-11e3-a2e9-12313d316c29/exports"
        }
    },
    "_embedded": {
        "osdi:exports": [
            {
                "identifiers": [
                    "osdi_sample_system:d91b4b2e-ae0e-4cd3-9ed7-d0ec501b0bc3",
                    "foreign_system:1"
                ],
                "origin_system": "OSDI Sample System",
                "created_date": "2014-03-20T21:04:31Z",
                "modified_date": "2014-03-20T21:04:31Z",
                "action_date": "2014-03-18T11:02:15Z",
                "approved_date" :"2014-03-18T11:02:15Z",
                "processed_date" : "2014-03-18T11:02:15Z",
                "name" : "People who love us export",
                "status" : "ready",
                "download_link" : "https://osdi-sample-system.org/downloads/jdiejdjdiejd.csv",
                "export_template" : "my_template_tsv",
                "_links": {
                    "self": {
                        "href": "https://osdi-sample-system.org/api/v1/exports/c945d6fe-929e-11e3-a2e9-12313d316c29"
                    },
                    "osdi:resource": {
                        "href": "https://osdi-sample-system.org/api/v1/lists/45d6fe-929e-11e3-a2e9-12313d316c29"
                    }
                }
            }
        ]
    }
}
""", {OSDI_ROOT: "{osdi}", "[your api key here]": "{token:osdi}",
      "\n\nHeader:\n": "\n"},
        needs=("osdi:many",),
        differences=[OSDI_ROOT_DIFF, OSDI_HEADER_LABEL, OSDI_TYPE,
                     OSDI_DETAIL, OSDI_DOWNLOAD_LINK, OSDI_APPROVED,
                     Difference(
                         "the body as the document means it",
                         "the document's JSON does not parse: a stray m "
                         "after a name, // comments, trailing commas; "
                         "here without them, and without the second "
                         "(truncated) export"), Difference(
                         "previous appears on pages after the first, and "
                         "the collection's self is the collection",
                         "the example's self link is another resource's "
                         "nested collection"), Difference(
                         "identifiers hold Quarry's one id",
                         "foreign_system:1 is the sample system's second "
                         "identifier; Quarry knows no other system")]),
    Example(
        "osdi", "Retrieving an individual Export (GET)", OSDI_SRC, """\
GET https://osdi-sample-system.org/api/v1/exports/d945d6fe-929e-11e3-a2e9-12313d316c29

Header:
OSDI-API-Token:[your api key here]
""", """\
HTTP/1.1 200 OK
Content-Type: application/hal+json
Cache-Control: max-age=0, private, must-revalidate

{
    "identifiers": [
        "osdi_sample_system:d91b4b2e-ae0e-4cd3-9ed7-d0ec501b0bc3"
    ],
    "origin_system": "OSDI Sample System",
    "created_date": "2014-03-20T21:04:31Z",
    "modified_date": "2014-03-20T21:04:31Z",
    "action_date": "2014-03-18T11:02:15Z",
    "name" : "Likely Hipsters export",
    "status" : "rejected",
    "detail" : "Please ride your fixie to  campaign security, you are fired!",
    "export_template" : "my_template_tsv",
    "_links": {
        "self": {
            "href": "https://osdi-sample-system.org/api/v1/exports/d945d6fe-929e-11e3-a2e9-12313d316c29"
        },
        "osdi:resource": {
            "href": "https://osdi-sample-system.org/api/v1/lists/45d6fe-929e-11e3-a2e9-12313d316c29"
        }
    }
}
""", {OSDI_ROOT: "{osdi}", "[your api key here]": "{token:osdi}",
      "\n\nHeader:\n": "\n", "d945d6fe-929e-11e3-a2e9-12313d316c29":
      "{job:rejected}"},
        needs=("job:rejected",),
        differences=[OSDI_ROOT_DIFF, OSDI_HEADER_LABEL, OSDI_TYPE,
                     OSDI_DATES, Difference(
                         "identifiers hold Quarry's one id",
                         "foreign_system:1 is the sample system's second "
                         "identifier (left out above)")]),
    Example(
        "osdi", "Creating a new Export (POST)", OSDI_SRC, """\
POST https://osdi-sample-system.org/api/v1/exports

Header:
OSDI-API-Token:[your api key here]

{
    "export_template" : "my_template_tsv",
    "name" : "People who love us",
    "_links" : {
        "osdi:resource" : {
            "href" : "https://osdi-sample-system.org/api/v1/lists/d91b4b2e-ae0e-4cd3-9ed7-d0ec501b0bc3"
        }

    }
 }
""", """\
HTTP/1.1 200 OK
Content-Type: application/hal+json
Cache-Control: max-age=0, private, must-revalidate

""", {OSDI_ROOT: "{osdi}", "[your api key here]": "{token:osdi}",
      "\n\nHeader:\n": "\n", '"my_template_tsv"': '"tsv"',
      "{osdi}/lists/d91b4b2e-ae0e-4cd3-9ed7-d0ec501b0bc3": "{def-url:tsv}"},
        differences=[OSDI_ROOT_DIFF, OSDI_HEADER_LABEL, Difference(
            "201 Created with the new export and its Location",
            "the example answers 200 with an empty body, which leaves the "
            "client no way to poll the export it made; SPEC section 6 and "
            "OSDI's other resources answer with the resource",
            status=201, body=False), Difference(
            "export_template names the file format; osdi:resource is a "
            "definition", "Quarry's template of columns is its definition "
            "(\"my_template_tsv\" becomes \"tsv\"); Quarry exports "
            "definitions, not lists")]),
    Example(
        "osdi", "Modifying an Export (PUT): not supported", OSDI_SRC, """\
PUT https://osdi-sample-system.org/api/v1/exports/d945d6fe-929e-11e3-a2e9-12313d316c29

Header:
OSDI-API-Token:[your api key here]

{}
""", """\
HTTP/1.1 405 Method Not Allowed
Content-Type: application/hal+json

""", {OSDI_ROOT: "{osdi}", "[your api key here]": "{token:osdi}",
      "\n\nHeader:\n": "\n", "d945d6fe-929e-11e3-a2e9-12313d316c29":
      "{job:rejected}"},
        needs=("job:rejected",),
        differences=[OSDI_ROOT_DIFF, OSDI_HEADER_LABEL, Difference(
            "the request and answer are Quarry's reading of \"Not "
            "Supported\"", "the document shows no example; Quarry "
            "answers 405 with Allow and an osdi:error body", body=False)]),
    Example(
        "osdi", "Deleting an Export (DELETE)", OSDI_SRC, """\
DELETE https://osdi-sample-system.org/api/v1/exports/d91b4b2e-ae0e-4cd3-9ed7-de9uemdse

Header:
OSDI-API-Token:[your api key here]
""", """\
HTTP/1.1 200 OK
Content-Type: application/hal+json
Cache-Control: max-age=0, private, must-revalidate

{
    "notice": "This export was successfully deleted."
}
""", {OSDI_ROOT: "{osdi}", "[your api key here]": "{token:osdi}",
      "\n\nHeader:\n": "\n", "d91b4b2e-ae0e-4cd3-9ed7-de9uemdse":
      "{job:deletable}"},
        needs=("job:deletable",),
        differences=[OSDI_ROOT_DIFF, OSDI_HEADER_LABEL]),
]
