/*
 * The PostgreSQL side of the gearman extension: pggearman's SQL functions, the settings
 * (gearman.default_servers, pggearman.default_servers, gearman.timeout), errors as SQLSTATEs,
 * and query cancellation. The Gearman side is Rust (src/lib.rs, linked in as a static
 * library): it never longjmps, and nothing here longjmps across it, since every ereport comes
 * after its call has returned.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

/* src/lib.rs */
enum
{
	GEARMAN_PG_OK = 0,
	GEARMAN_PG_NULL = 1,
	GEARMAN_PG_CANCELLED = 2,
	GEARMAN_PG_TIMED_OUT = 3,
	GEARMAN_PG_NO_SERVERS = 4,
	GEARMAN_PG_JOB_FAILED = 5,
	GEARMAN_PG_BAD_ARGUMENT = 6,
	GEARMAN_PG_CONNECTION = 7,
	GEARMAN_PG_INTERNAL = 8
};
extern int	gearman_pg_servers_set(const char *list, char **error);
extern int	gearman_pg_call(const char *default_servers,
							const char *function, size_t function_len,
							const char *workload, size_t workload_len,
							int priority, int background, long timeout_ms,
							int (*cancelled) (void),
							char **out, size_t *out_len, char **error);
extern void gearman_pg_free(char *pointer);

static char *default_servers = NULL;
static char *pggearman_default_servers = NULL;
static int	timeout_ms = 30000;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("gearman.default_servers",
							   "Gearman job servers (host[:port],...) used until gman_servers_set() is called.",
							   NULL, &default_servers, NULL, PGC_USERSET, GUC_LIST_INPUT,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("pggearman.default_servers",
							   "pggearman's name for gearman.default_servers, read when that one is empty.",
							   NULL, &pggearman_default_servers, NULL, PGC_USERSET, GUC_LIST_INPUT,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("gearman.timeout",
							"Longest a Gearman call may take (0 = no limit).",
							NULL, &timeout_ms, 30000, 0, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("gearman");
	MarkGUCPrefixReserved("pggearman");
}

/* Asked by the Rust side while it waits: whether the query was cancelled (or the backend is
 * told to exit). Reads the flags only: the error is raised after the call returns. */
static int
query_cancelled(void)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

/* Raises the error for `code`, with the text the Rust side gave (freed first). */
static void
raise_call_error(int code, char *error, const char *sql_function)
{
	char	   *message = pstrdup(error ? error : "unknown error");
	int			sqlstate;

	gearman_pg_free(error);
	if (code == GEARMAN_PG_CANCELLED)
	{
		/* PostgreSQL's own error for the cancel (user request, statement_timeout, exit). */
		CHECK_FOR_INTERRUPTS();
		sqlstate = ERRCODE_QUERY_CANCELED;
	}
	else if (code == GEARMAN_PG_TIMED_OUT)
		sqlstate = ERRCODE_QUERY_CANCELED;
	else if (code == GEARMAN_PG_NO_SERVERS || code == GEARMAN_PG_CONNECTION)
		sqlstate = ERRCODE_CONNECTION_FAILURE;
	else if (code == GEARMAN_PG_JOB_FAILED)
		sqlstate = ERRCODE_EXTERNAL_ROUTINE_EXCEPTION;
	else if (code == GEARMAN_PG_BAD_ARGUMENT)
		sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
	else
		sqlstate = ERRCODE_INTERNAL_ERROR;
	if (code == GEARMAN_PG_TIMED_OUT)
		ereport(ERROR, (errcode(sqlstate), errmsg("%s: %s", sql_function, message),
						errhint("gearman.timeout bounds each call (0 = no limit).")));
	ereport(ERROR, (errcode(sqlstate), errmsg("%s: %s", sql_function, message)));
}

static Datum
call(FunctionCallInfo fcinfo, const char *sql_function, int priority, bool background,
	 bool binary)
{
	text	   *function;
	bytea	   *workload;
	const char *servers;
	char	   *out = NULL;
	char	   *error = NULL;
	size_t		out_len = 0;
	int			code;
	bytea	   *result;

	if (PG_ARGISNULL(0))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("gearman function cannot be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("gearman workload cannot be NULL")));
	function = PG_GETARG_TEXT_PP(0);
	workload = PG_GETARG_BYTEA_PP(1);
	servers = default_servers && *default_servers ? default_servers : pggearman_default_servers;

	code = gearman_pg_call(servers,
						   VARDATA_ANY(function), VARSIZE_ANY_EXHDR(function),
						   VARDATA_ANY(workload), VARSIZE_ANY_EXHDR(workload),
						   priority, background, timeout_ms, query_cancelled,
						   &out, &out_len, &error);
	if (code == GEARMAN_PG_NULL)
		PG_RETURN_NULL();
	if (code != GEARMAN_PG_OK)
		raise_call_error(code, error, sql_function);

	result = (bytea *) palloc(out_len + VARHDRSZ);
	SET_VARSIZE(result, out_len + VARHDRSZ);
	memcpy(VARDATA(result), out, out_len);
	gearman_pg_free(out);
	/* A text result must be valid in the database's encoding (a worker may send anything). */
	if (!binary || background)
		pg_verifymbstr(VARDATA(result), out_len, false);
	PG_RETURN_BYTEA_P(result);
}

#define GMAN_FUNCTION(name, priority, background, binary) \
	PG_FUNCTION_INFO_V1(name); \
	Datum name(PG_FUNCTION_ARGS); \
	Datum name(PG_FUNCTION_ARGS) { return call(fcinfo, #name, priority, background, binary); }

GMAN_FUNCTION(gman_do, 0, false, false)
GMAN_FUNCTION(gman_do_high, 1, false, false)
GMAN_FUNCTION(gman_do_low, 2, false, false)
GMAN_FUNCTION(gman_do_background, 0, true, false)
GMAN_FUNCTION(gman_do_high_background, 1, true, false)
GMAN_FUNCTION(gman_do_low_background, 2, true, false)
GMAN_FUNCTION(gman_do_bytea, 0, false, true)
GMAN_FUNCTION(gman_do_high_bytea, 1, false, true)
GMAN_FUNCTION(gman_do_low_bytea, 2, false, true)

PG_FUNCTION_INFO_V1(gman_servers_set);
Datum		gman_servers_set(PG_FUNCTION_ARGS);

/* gman_servers_set(text): this session's servers from now on (over the settings). */
Datum
gman_servers_set(PG_FUNCTION_ARGS)
{
	char	   *list = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *error = NULL;
	int			code = gearman_pg_servers_set(list, &error);

	if (code != GEARMAN_PG_OK)
		raise_call_error(code, error, "gman_servers_set");
	PG_RETURN_BOOL(true);
}
