/*
 * Callers: who asks, and what they may see (see model.h).  Every rule of
 * isolation between tenants, and between the users of a tenant, is one
 * of these functions; the model's operations call them, nothing else
 * decides.
 */
#include <stdio.h>
#include <string.h>

#include "quarry/log.h"
#include "quarry/model.h"

/* The system caller, of every tenant or of one (see model.h). */
void
caller_system(struct caller *c, const char *tenant)
{
	memset(c, 0, sizeof(*c));
	c->kind = CALLER_SYSTEM;
	c->role = ROLE_ADMIN;
	snprintf(c->tenant, sizeof(c->tenant), "%s", tenant ? tenant : "");
	snprintf(c->name, sizeof(c->name), "%s", log_ident());
}

/* The caller a token authenticates (see model.h). */
void
caller_of_token(struct caller *c, const struct token *t)
{
	memset(c, 0, sizeof(*c));
	c->kind = CALLER_TOKEN;
	c->role = t->role;
	memcpy(c->tenant, t->tenant, sizeof(c->tenant));
	snprintf(c->principal, sizeof(c->principal), "%s", t->id);
	snprintf(c->name, sizeof(c->name), "%s", t->name);
}

/* True if c acts as an admin (see model.h). */
int
caller_is_admin(const struct caller *c)
{
	return c->kind == CALLER_SYSTEM ||
	    (c->kind == CALLER_TOKEN && c->role == ROLE_ADMIN);
}

/* True if c may see what belongs to tenant (see model.h). */
int
caller_sees_tenant(const struct caller *c, const char *tenant)
{
	if (c->kind == CALLER_NONE)
		return 0;
	if (c->kind == CALLER_SYSTEM && c->tenant[0] == '\0')
		return 1;
	return c->tenant[0] != '\0' && strcmp(c->tenant, tenant) == 0;
}

/* True if c may see job j: its tenant's admin, or its owner. */
int
caller_sees_job(const struct caller *c, const struct job *j)
{
	if (!caller_sees_tenant(c, j->tenant))
		return 0;
	return caller_is_admin(c) || strcmp(j->owner, c->principal) == 0;
}
