/*
 * quarryctl's commands.  Each takes the arguments after its words and
 * returns the process exit status (0 ok, 1 failure, 2 usage).
 */
#ifndef QUARRY_CTL_H
#define QUARRY_CTL_H

#include "quarry/config.h"
#include "quarry/model.h"

struct ctl {
	struct conf	 conf;
	struct store	*store;		/* opened on first use */
	struct caller	 who;		/* the system, of every tenant */
};

struct store *ctl_store(struct ctl *c);

int	cmd_init(struct ctl *c, int argc, char **argv);
int	cmd_token(struct ctl *c, int argc, char **argv);
int	cmd_user(struct ctl *c, int argc, char **argv);
int	cmd_dataset(struct ctl *c, int argc, char **argv);
int	cmd_definition(struct ctl *c, int argc, char **argv);
int	cmd_job(struct ctl *c, int argc, char **argv);
int	cmd_export(struct ctl *c, int argc, char **argv);
int	cmd_database(struct ctl *c, int argc, char **argv);
int	cmd_backup(struct ctl *c, int argc, char **argv);
int	cmd_restore(struct ctl *c, int argc, char **argv);
int	cmd_verify(struct ctl *c, int argc, char **argv);
int	cmd_stats(struct ctl *c, int argc, char **argv);
int	cmd_audit(struct ctl *c, int argc, char **argv);
int	cmd_link_key(struct ctl *c, int argc, char **argv);
/* 'definition check ID': the query prepared, its columns printed. */
int	ctl_definition_check(struct ctl *c, const char *id);

#endif
