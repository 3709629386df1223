/*
 * Conventions (apply to every function below):
 * - Handles: gearman_client_st, gearman_worker_st, gearman_job_st and gearman_task_st are 16-byte
 *   structs that may live in caller storage (create(&st)) or on the heap (create(NULL)).
 *   free() releases the implementation, and the struct itself only if the library allocated it.
 * - NULL: every function accepts NULL, and a caller-storage handle after its free() (its _impl
 *   is then NULL), and answers with an error code, NULL, false or 0. A library-allocated handle
 *   (create(NULL)) no longer exists after its free(), as in libgearman: do not pass it again.
 * - Memory: results from gearman_client_do*() come from the client's workload malloc function
 *   (fn(size + 1, context)) if one is set, results from gearman_job_take_workload() from the
 *   worker's, else from malloc(); gearman_task_take_data() results from malloc(). All are
 *   NUL-terminated past their size, for the caller to release with the matching free. A
 *   gearman_worker_fn's result is released with the worker's workload free function if one is
 *   set, else with free(). const pointers returned by accessors are borrowed and stay valid until
 *   the next call on the same object or until it is freed.
 * - Callbacks may call back into the library (add, run or free tasks, report on their job);
 *   an object freed by a callback stays valid until the call that ran the callback returns.
 * - Threads: one handle is used by one thread at a time; different handles may be used from
 *   different threads at once. The library starts no threads, so handles created after fork()
 *   work in the child.
 * - Tasks added with gearman_client_add_task*() are sent by gearman_client_run_tasks() in LIFO
 *   order, as libgearman 1.1 does.
 * - gearman_client_cancel_job() sends WORK_FAIL on the client connection, as libgearman 1.1
 *   does; servers answer JOB_NOT_FOUND and nothing is cancelled. Cancel with the admin command
 *   "cancel job <handle>" (gearadmin --cancel-job) instead.
 */

#define LIBGEARMAN_VERSION_STRING "1.1.20"
#define LIBGEARMAN_VERSION_HEX 0x01001020

#define GEARMAN_API
#define GEARMAN_LOCAL

#define GEARMAN_DEFAULT_TCP_PORT 4730
#define GEARMAN_DEFAULT_TCP_PORT_STRING "4730"
#define GEARMAN_DEFAULT_TCP_SERVICE "gearman"
#define GEARMAN_DEFAULT_TCP_HOST "localhost"
#define GEARMAN_ARGS_BUFFER_SIZE 128
#define GEARMAN_DEFAULT_SOCKET_RECV_SIZE 32768
#define GEARMAN_DEFAULT_SOCKET_SEND_SIZE 32768
#define GEARMAN_DEFAULT_SOCKET_TIMEOUT 10
#define GEARMAN_DEFAULT_CONNECT_TIMEOUT 4000
#define GEARMAN_FUNCTION_MAX_SIZE 512
#define GEARMAN_JOB_HANDLE_SIZE 64
#define GEARMAN_MAXIMUM_INTEGER_DISPLAY_LENGTH 20
#define GEARMAN_MAX_COMMAND_ARGS 8
#define GEARMAN_MAX_ECHO_SIZE (UINT32_MAX - GEARMAN_ARGS_BUFFER_SIZE)
#define GEARMAN_MAX_OPTION_SIZE (UINT32_MAX - GEARMAN_ARGS_BUFFER_SIZE)
#define GEARMAN_MAX_ERROR_SIZE 2048
#define GEARMAN_MAX_IDENTIFIER 254
#define GEARMAN_MAX_UNIQUE_SIZE 64
#define GEARMAN_UNIQUE_SIZE 64
#define GEARMAN_MAX_UUID_SIZE 36
#define GEARMAN_OPTION_SIZE 64
#define GEARMAN_PACKET_HEADER_SIZE 12
#define GEARMAN_RECV_BUFFER_SIZE 8192
#define GEARMAN_SEND_BUFFER_SIZE 8192
#define GEARMAN_WORKER_WAIT_TIMEOUT (10 * 1000)
#ifdef NI_MAXHOST
#define GEARMAN_NI_MAXHOST NI_MAXHOST
#else
#define GEARMAN_NI_MAXHOST 1025
#endif
#ifdef NI_MAXSERV
#define GEARMAN_NI_MAXSERV NI_MAXSERV
#else
#define GEARMAN_NI_MAXSERV 32
#endif

enum gearman_return_t {
  GEARMAN_SUCCESS = 0,
  GEARMAN_IO_WAIT = 1,
  GEARMAN_SHUTDOWN = 2,
  GEARMAN_SHUTDOWN_GRACEFUL = 3,
  GEARMAN_ERRNO = 4,
  GEARMAN_EVENT = 5,
  GEARMAN_TOO_MANY_ARGS = 6,
  GEARMAN_NO_ACTIVE_FDS = 7,
  GEARMAN_INVALID_MAGIC = 8,
  GEARMAN_INVALID_COMMAND = 9,
  GEARMAN_INVALID_PACKET = 10,
  GEARMAN_UNEXPECTED_PACKET = 11,
  GEARMAN_GETADDRINFO = 12,
  GEARMAN_NO_SERVERS = 13,
  GEARMAN_LOST_CONNECTION = 14,
  GEARMAN_MEMORY_ALLOCATION_FAILURE = 15,
  GEARMAN_JOB_EXISTS = 16,
  GEARMAN_JOB_QUEUE_FULL = 17,
  GEARMAN_SERVER_ERROR = 18,
  GEARMAN_WORK_ERROR = 19,
  GEARMAN_WORK_DATA = 20,
  GEARMAN_WORK_WARNING = 21,
  GEARMAN_WORK_STATUS = 22,
  GEARMAN_WORK_EXCEPTION = 23,
  GEARMAN_WORK_FAIL = 24,
  GEARMAN_NOT_CONNECTED = 25,
  GEARMAN_COULD_NOT_CONNECT = 26,
  GEARMAN_SEND_IN_PROGRESS = 27,
  GEARMAN_RECV_IN_PROGRESS = 28,
  GEARMAN_NOT_FLUSHING = 29,
  GEARMAN_DATA_TOO_LARGE = 30,
  GEARMAN_INVALID_FUNCTION_NAME = 31,
  GEARMAN_INVALID_WORKER_FUNCTION = 32,
  GEARMAN_NO_REGISTERED_FUNCTION = 33,
  GEARMAN_NO_REGISTERED_FUNCTIONS = 34,
  GEARMAN_NO_JOBS = 35,
  GEARMAN_ECHO_DATA_CORRUPTION = 36,
  GEARMAN_NEED_WORKLOAD_FN = 37,
  GEARMAN_PAUSE = 38,
  GEARMAN_UNKNOWN_STATE = 39,
  GEARMAN_PTHREAD = 40,
  GEARMAN_PIPE_EOF = 41,
  GEARMAN_QUEUE_ERROR = 42,
  GEARMAN_FLUSH_DATA = 43,
  GEARMAN_SEND_BUFFER_TOO_SMALL = 44,
  GEARMAN_IGNORE_PACKET = 45,
  GEARMAN_UNKNOWN_OPTION = 46,
  GEARMAN_TIMEOUT = 47,
  GEARMAN_ARGUMENT_TOO_LARGE = 48,
  GEARMAN_INVALID_ARGUMENT = 49,
  GEARMAN_IN_PROGRESS = 50,
  GEARMAN_INVALID_SERVER_OPTION = 51,
  GEARMAN_JOB_NOT_FOUND = 52,
  GEARMAN_MAX_RETURN = 53
};
#define GEARMAN_FAIL GEARMAN_WORK_FAIL
#define GEARMAN_FATAL GEARMAN_WORK_FAIL
#define GEARMAN_ERROR GEARMAN_WORK_ERROR

enum gearman_job_priority_t {
  GEARMAN_JOB_PRIORITY_HIGH = 0,
  GEARMAN_JOB_PRIORITY_NORMAL = 1,
  GEARMAN_JOB_PRIORITY_LOW = 2,
  GEARMAN_JOB_PRIORITY_MAX = 3
};

enum gearman_command_t {
  GEARMAN_COMMAND_TEXT, GEARMAN_COMMAND_CAN_DO, GEARMAN_COMMAND_CANT_DO,
  GEARMAN_COMMAND_RESET_ABILITIES, GEARMAN_COMMAND_PRE_SLEEP, GEARMAN_COMMAND_UNUSED,
  GEARMAN_COMMAND_NOOP, GEARMAN_COMMAND_SUBMIT_JOB, GEARMAN_COMMAND_JOB_CREATED,
  GEARMAN_COMMAND_GRAB_JOB, GEARMAN_COMMAND_NO_JOB, GEARMAN_COMMAND_JOB_ASSIGN,
  GEARMAN_COMMAND_WORK_STATUS, GEARMAN_COMMAND_WORK_COMPLETE, GEARMAN_COMMAND_WORK_FAIL,
  GEARMAN_COMMAND_GET_STATUS, GEARMAN_COMMAND_ECHO_REQ, GEARMAN_COMMAND_ECHO_RES,
  GEARMAN_COMMAND_SUBMIT_JOB_BG, GEARMAN_COMMAND_ERROR, GEARMAN_COMMAND_STATUS_RES,
  GEARMAN_COMMAND_SUBMIT_JOB_HIGH, GEARMAN_COMMAND_SET_CLIENT_ID, GEARMAN_COMMAND_CAN_DO_TIMEOUT,
  GEARMAN_COMMAND_ALL_YOURS, GEARMAN_COMMAND_WORK_EXCEPTION, GEARMAN_COMMAND_OPTION_REQ,
  GEARMAN_COMMAND_OPTION_RES, GEARMAN_COMMAND_WORK_DATA, GEARMAN_COMMAND_WORK_WARNING,
  GEARMAN_COMMAND_GRAB_JOB_UNIQ, GEARMAN_COMMAND_JOB_ASSIGN_UNIQ,
  GEARMAN_COMMAND_SUBMIT_JOB_HIGH_BG, GEARMAN_COMMAND_SUBMIT_JOB_LOW,
  GEARMAN_COMMAND_SUBMIT_JOB_LOW_BG, GEARMAN_COMMAND_SUBMIT_JOB_SCHED,
  GEARMAN_COMMAND_SUBMIT_JOB_EPOCH, GEARMAN_COMMAND_SUBMIT_REDUCE_JOB,
  GEARMAN_COMMAND_SUBMIT_REDUCE_JOB_BACKGROUND, GEARMAN_COMMAND_GRAB_JOB_ALL,
  GEARMAN_COMMAND_JOB_ASSIGN_ALL, GEARMAN_COMMAND_GET_STATUS_UNIQUE,
  GEARMAN_COMMAND_STATUS_RES_UNIQUE, GEARMAN_COMMAND_MAX
};

enum gearman_signal_t {
  GEARMAN_SIGNAL_CHECK = 0,
  GEARMAN_SIGNAL_INTERRUPT = 1,
  GEARMAN_SIGNAL_KILL = 2,
  GEARMAN_SIGNAL_KILLWAIT = 3
};
#define GEARMAN_INTERRUPT GEARMAN_SIGNAL_INTERRUPT
#define GEARMAN_KILL GEARMAN_SIGNAL_KILL

#ifndef __cplusplus
typedef enum gearman_return_t gearman_return_t;
typedef enum gearman_job_priority_t gearman_job_priority_t;
typedef enum gearman_command_t gearman_command_t;
typedef enum gearman_signal_t gearman_signal_t;
#endif

typedef enum {
  GEARMAN_VERBOSE_NEVER, GEARMAN_VERBOSE_FATAL, GEARMAN_VERBOSE_ERROR, GEARMAN_VERBOSE_INFO,
  GEARMAN_VERBOSE_DEBUG, GEARMAN_VERBOSE_CRAZY, GEARMAN_VERBOSE_MAX
} gearman_verbose_t;

typedef enum {
  GEARMAN_CLIENT_ALLOCATED = (1 << 0),
  GEARMAN_CLIENT_NON_BLOCKING = (1 << 1),
  GEARMAN_CLIENT_TASK_IN_USE = (1 << 2),
  GEARMAN_CLIENT_UNBUFFERED_RESULT = (1 << 3),
  GEARMAN_CLIENT_NO_NEW = (1 << 4),
  GEARMAN_CLIENT_FREE_TASKS = (1 << 5),
  GEARMAN_CLIENT_GENERATE_UNIQUE = (1 << 6),
  GEARMAN_CLIENT_EXCEPTION = (1 << 7),
  GEARMAN_CLIENT_SSL = (1 << 8),
  GEARMAN_CLIENT_MAX = (1 << 9)
} gearman_client_options_t;

typedef enum {
  GEARMAN_WORKER_ALLOCATED = (1 << 0),
  GEARMAN_WORKER_NON_BLOCKING = (1 << 1),
  GEARMAN_WORKER_PACKET_INIT = (1 << 2),
  GEARMAN_WORKER_GRAB_JOB_IN_USE = (1 << 3),
  GEARMAN_WORKER_PRE_SLEEP_IN_USE = (1 << 4),
  GEARMAN_WORKER_WORK_JOB_IN_USE = (1 << 5),
  GEARMAN_WORKER_CHANGE = (1 << 6),
  GEARMAN_WORKER_GRAB_UNIQ = (1 << 7),
  GEARMAN_WORKER_TIMEOUT_RETURN = (1 << 8),
  GEARMAN_WORKER_GRAB_ALL = (1 << 9),
  GEARMAN_WORKER_SSL = (1 << 10),
  GEARMAN_WORKER_IDENTIFIER = (1 << 11),
  GEARMAN_WORKER_MAX = (1 << 12)
} gearman_worker_options_t;

typedef enum {
  GEARMAN_NON_BLOCKING,
  GEARMAN_DONT_TRACK_PACKETS,
  GEARMAN_MAX
} gearman_universal_options_t;

typedef enum {
  GEARMAN_CON_READY,
  GEARMAN_CON_PACKET_IN_USE,
  GEARMAN_CON_EXTERNAL_FD,
  GEARMAN_CON_IGNORE_LOST_CONNECTION,
  GEARMAN_CON_CLOSE_AFTER_FLUSH,
  GEARMAN_CON_MAX
} gearman_connection_options_t;

enum gearman_con_recv_t {
  GEARMAN_CON_RECV_UNIVERSAL_NONE, GEARMAN_CON_RECV_UNIVERSAL_READ, GEARMAN_CON_RECV_STATE_READ_DATA
};
enum gearman_con_send_t {
  GEARMAN_CON_SEND_STATE_NONE, GEARMAN_CON_SEND_UNIVERSAL_PRE_FLUSH,
  GEARMAN_CON_SEND_UNIVERSAL_FORCE_FLUSH, GEARMAN_CON_SEND_UNIVERSAL_FLUSH,
  GEARMAN_CON_SEND_UNIVERSAL_FLUSH_DATA
};
enum gearman_con_universal_t {
  GEARMAN_CON_UNIVERSAL_ADDRINFO, GEARMAN_CON_UNIVERSAL_CONNECT,
  GEARMAN_CON_UNIVERSAL_CONNECTING, GEARMAN_CON_UNIVERSAL_CONNECTED
};
enum gearman_task_state_t {
  GEARMAN_TASK_STATE_NEW, GEARMAN_TASK_STATE_SUBMIT, GEARMAN_TASK_STATE_WORKLOAD,
  GEARMAN_TASK_STATE_WORK, GEARMAN_TASK_STATE_CREATED, GEARMAN_TASK_STATE_DATA,
  GEARMAN_TASK_STATE_WARNING, GEARMAN_TASK_STATE_STATUS, GEARMAN_TASK_STATE_COMPLETE,
  GEARMAN_TASK_STATE_EXCEPTION, GEARMAN_TASK_STATE_FAIL, GEARMAN_TASK_STATE_FINISHED
};
enum gearman_task_kind_t {
  GEARMAN_TASK_KIND_ADD_TASK, GEARMAN_TASK_KIND_EXECUTE, GEARMAN_TASK_KIND_DO
};
enum gearman_client_t {
  GEARMAN_CLIENT_STATE_IDLE, GEARMAN_CLIENT_STATE_NEW, GEARMAN_CLIENT_STATE_SUBMIT,
  GEARMAN_CLIENT_STATE_PACKET
};
enum gearman_worker_state_t {
  GEARMAN_WORKER_STATE_START, GEARMAN_WORKER_STATE_FUNCTION_SEND, GEARMAN_WORKER_STATE_CONNECT,
  GEARMAN_WORKER_STATE_GRAB_JOB_SEND, GEARMAN_WORKER_STATE_GRAB_JOB_RECV,
  GEARMAN_WORKER_STATE_PRE_SLEEP
};
enum gearman_worker_universal_t {
  GEARMAN_WORKER_WORK_UNIVERSAL_GRAB_JOB, GEARMAN_WORKER_WORK_UNIVERSAL_FUNCTION,
  GEARMAN_WORKER_WORK_UNIVERSAL_COMPLETE, GEARMAN_WORKER_WORK_UNIVERSAL_FAIL
};
enum gearman_task_attr_kind_t {
  GEARMAN_TASK_ATTR_FOREGROUND, GEARMAN_TASK_ATTR_BACKGROUND, GEARMAN_TASK_ATTR_EPOCH
};
enum gearman_function_kind_t {
  GEARMAN_WORKER_FUNCTION_NULL, GEARMAN_WORKER_FUNCTION_V1, GEARMAN_WORKER_FUNCTION_V2,
  GEARMAN_WORKER_FUNCTION_PARTITION
};
enum gearman_status_version_t { GEARMAN_STATUS_V1 };

static inline bool gearman_success(enum gearman_return_t rc) { return rc == GEARMAN_SUCCESS; }
static inline bool gearman_failed(enum gearman_return_t rc) { return rc != GEARMAN_SUCCESS; }
static inline bool gearman_continue(enum gearman_return_t rc) {
  return rc == GEARMAN_IO_WAIT || rc == GEARMAN_IN_PROGRESS || rc == GEARMAN_PAUSE ||
         rc == GEARMAN_JOB_EXISTS;
}

/* Handles: 16 bytes, placed by programs on the stack, in arrays or in their own structs. */
typedef struct gearman_client_st {
  struct { bool is_allocated; bool is_initialized; } options;
  void *_impl;
} gearman_client_st;
typedef struct gearman_worker_st {
  struct { bool is_allocated; bool is_initialized; } options;
  void *_impl;
} gearman_worker_st;
typedef struct gearman_job_st {
  struct { bool is_allocated; bool is_initialized; } options;
  void *_impl;
} gearman_job_st;
typedef struct gearman_task_st {
  struct { bool is_allocated; } options;
  void *_impl;
} gearman_task_st;

typedef struct gearman_result_st gearman_result_st;
typedef struct gearman_aggregator_st gearman_aggregator_st;
typedef char gearman_job_handle_t[GEARMAN_JOB_HANDLE_SIZE];

typedef struct gearman_string_t {
  const char *c_str;
  const size_t size;
} gearman_string_t;
#define gearman_size(X) (X).size
#define gearman_c_str(X) (X).c_str
#define gearman_string_param(X) (X).c_str, (X).size
#define gearman_string_param_null NULL, 0
#define gearman_string_param_cstr(X) (X), ((X) ? strlen(X) : 0)
#define gearman_string_make(X) (X), sizeof(X) - 1
#ifdef __cplusplus
#define gearman_literal_param(X) (X), (size_t(sizeof(X) - 1))
#define gearman_literal_param_size(X) static_cast<size_t>(sizeof(X) - 1)
#define gearman_string_param_printf(X) int((X).size), (X).c_str
#else
#define gearman_string_param_printf(X) (int)((X).size), (X).c_str
#endif

typedef struct gearman_argument_t {
  gearman_string_t name;
  gearman_string_t value;
} gearman_argument_t;

typedef struct gearman_task_attr_t {
  enum gearman_task_attr_kind_t kind;
  enum gearman_job_priority_t priority;
  union {
    char bytes[sizeof(time_t)];
    struct gearman_task_attr_epoch_t { time_t value; } epoch;
  } options;
} gearman_task_attr_t;

typedef void *(gearman_worker_fn)(gearman_job_st *job, void *context, size_t *result_size,
                                  enum gearman_return_t *ret_ptr);
typedef enum gearman_return_t (gearman_function_fn)(gearman_job_st *job, void *worker_context);
typedef enum gearman_return_t (gearman_aggregator_fn)(gearman_aggregator_st *,
                                                      gearman_task_st *, gearman_result_st *);
typedef enum gearman_return_t (gearman_workload_fn)(gearman_task_st *task);
typedef enum gearman_return_t (gearman_created_fn)(gearman_task_st *task);
typedef enum gearman_return_t (gearman_data_fn)(gearman_task_st *task);
typedef enum gearman_return_t (gearman_warning_fn)(gearman_task_st *task);
typedef enum gearman_return_t (gearman_universal_status_fn)(gearman_task_st *task);
typedef enum gearman_return_t (gearman_complete_fn)(gearman_task_st *task);
typedef enum gearman_return_t (gearman_exception_fn)(gearman_task_st *task);
typedef enum gearman_return_t (gearman_fail_fn)(gearman_task_st *task);
typedef void (gearman_log_fn)(const char *line, gearman_verbose_t verbose, void *context);
typedef void *(gearman_malloc_fn)(size_t size, void *context);
typedef void *(gearman_realloc_fn)(void *ptr, size_t size, void *context);
typedef void *(gearman_calloc_fn)(size_t nelm, size_t size, void *context);
typedef void (gearman_free_fn)(void *ptr, void *context);
typedef enum gearman_return_t (gearman_parse_server_fn)(const char *host, in_port_t port,
                                                        void *context);
typedef void (gearman_task_context_free_fn)(gearman_task_st *task, void *context);

struct gearman_function_v1_t { gearman_worker_fn *func; };
struct gearman_function_v2_t { gearman_function_fn *func; };
struct gearman_function_partition_v1_t {
  gearman_function_fn *func;
  gearman_aggregator_fn *aggregator;
};
typedef struct gearman_function_t {
  const enum gearman_function_kind_t kind;
  union {
    char bytes[sizeof(struct gearman_function_partition_v1_t)];
    struct gearman_function_v1_t function_v1;
    struct gearman_function_v2_t function_v2;
    struct gearman_function_partition_v1_t partitioner;
  } callback;
} gearman_function_t;

struct gearman_actions_t {
  gearman_workload_fn *workload_fn;
  gearman_created_fn *created_fn;
  gearman_data_fn *data_fn;
  gearman_warning_fn *warning_fn;
  gearman_universal_status_fn *status_fn;
  gearman_complete_fn *complete_fn;
  gearman_exception_fn *exception_fn;
  gearman_fail_fn *fail_fn;
};

typedef struct gearman_status_t {
  enum gearman_status_version_t version_;
  union {
    struct gearman_status_v1_t {
      enum gearman_return_t result_rc;
      bool is_known;
      bool is_running;
      uint32_t numerator;
      uint32_t denominator;
      uint32_t client_count;
    } mesg_;
    uint8_t raw_[20];
  } status_;
} gearman_status_t;

typedef struct gearman_id_t {
  int read_fd;
  int write_fd;
} gearman_id_t;
#define GEARMAN_ID_INITIALIZER gearman_id_initialize()

typedef struct gearman_allocator_t {
  gearman_calloc_fn *calloc;
  gearman_free_fn *free;
  gearman_malloc_fn *malloc;
  gearman_realloc_fn *realloc;
  void *context;
} gearman_allocator_t;

#define gearman_has_reducer(A) ((A) && (A)->reducer.final_fn)
