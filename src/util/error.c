/* Names of rill's error codes. */
#include "rill.h"

const char *rill_strerror(int err)
{
    switch (err) {
    case RILL_OK: return "success";
    case RILL_ENOMEM: return "out of memory or over a size limit";
    case RILL_EINVAL: return "invalid argument";
    case RILL_ETRUNCATED: return "input ends in the middle of a value";
    case RILL_ESYNTAX: return "malformed input";
    case RILL_ELIMIT: return "a limit was exceeded";
    case RILL_EKEYORDER: return "dictionary keys unsorted or duplicated";
    case RILL_ETRAILING: return "trailing bytes after the value";
    case RILL_EINTEGER: return "invalid integer";
    case RILL_EMETAINFO: return "invalid torrent";
    case RILL_EPATH: return "unsafe file path";
    case RILL_EUNSUPPORTED: return "not supported";
    case RILL_EMAGNET: return "invalid magnet link";
    case RILL_EIO: return "input/output error";
    case RILL_ENOENT: return "no such file";
    case RILL_ERESUME: return "resume data torn, corrupt or stale";
    case RILL_ERANGE: return "out of range";
    default: return "unknown error";
    }
}
