/*
 * The log: one line per event, "TIME LEVEL prog[pid]: message", to a file
 * or to stderr (where a web server collects a FastCGI program's lines).
 */
#ifndef QUARRY_LOG_H
#define QUARRY_LOG_H

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Sets the program name and the file ("" or NULL = stderr); 0 on success. */
int	 log_open(const char *prog, const char *path);
/* Reopens the same file (after rotation, on SIGHUP). */
int	 log_reopen(void);
/* The program's name given to log_open ("quarry" before). */
const char *log_ident(void);
void	 qlog(enum log_level lvl, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
