-- The gearman extension: pggearman's functions, plus bytea overloads for binary workloads.
\echo Use "CREATE EXTENSION gearman" to load this file. \quit

CREATE FUNCTION gman_servers_set(text) RETURNS bool
  AS 'MODULE_PATHNAME', 'gman_servers_set' LANGUAGE C STRICT;

CREATE FUNCTION gman_do(text, text) RETURNS text
  AS 'MODULE_PATHNAME', 'gman_do' LANGUAGE C;
CREATE FUNCTION gman_do_high(text, text) RETURNS text
  AS 'MODULE_PATHNAME', 'gman_do_high' LANGUAGE C;
CREATE FUNCTION gman_do_low(text, text) RETURNS text
  AS 'MODULE_PATHNAME', 'gman_do_low' LANGUAGE C;
CREATE FUNCTION gman_do_background(text, text) RETURNS text
  AS 'MODULE_PATHNAME', 'gman_do_background' LANGUAGE C;
CREATE FUNCTION gman_do_high_background(text, text) RETURNS text
  AS 'MODULE_PATHNAME', 'gman_do_high_background' LANGUAGE C;
CREATE FUNCTION gman_do_low_background(text, text) RETURNS text
  AS 'MODULE_PATHNAME', 'gman_do_low_background' LANGUAGE C;

-- Binary workloads: the result is bytea too (background calls still return the handle).
CREATE FUNCTION gman_do(text, bytea) RETURNS bytea
  AS 'MODULE_PATHNAME', 'gman_do_bytea' LANGUAGE C;
CREATE FUNCTION gman_do_high(text, bytea) RETURNS bytea
  AS 'MODULE_PATHNAME', 'gman_do_high_bytea' LANGUAGE C;
CREATE FUNCTION gman_do_low(text, bytea) RETURNS bytea
  AS 'MODULE_PATHNAME', 'gman_do_low_bytea' LANGUAGE C;
CREATE FUNCTION gman_do_background(text, bytea) RETURNS text
  AS 'MODULE_PATHNAME', 'gman_do_background' LANGUAGE C;
CREATE FUNCTION gman_do_high_background(text, bytea) RETURNS text
  AS 'MODULE_PATHNAME', 'gman_do_high_background' LANGUAGE C;
CREATE FUNCTION gman_do_low_background(text, bytea) RETURNS text
  AS 'MODULE_PATHNAME', 'gman_do_low_background' LANGUAGE C;
