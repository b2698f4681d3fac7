/* The delivery-file splitter of sts-audit's ingest (pipeline/scan.py loads it with ctypes).

   sts_split() validates one decompressed CloudTrail delivery document, {"Records":[...]} and
   nothing else, and copies each record's text out of it, back to back, with its offsets: the
   values DuckDB's json_extract(doc, '$.Records[*]') gives, without DuckDB's JSON read of the
   whole document, which ran on one thread and cost as much as the rest of staging together.

   A record is copied as written. It is flagged (flags[i] = 1) when DuckDB's text of it may
   differ from that: a blank between its tokens, a backslash escape in a string (DuckDB writes
   `\/` as `/`, `\u0041` as `A`), or a number other than a short integer (1.5e3 is written
   1500.0, -0 as 0). The ingest has DuckDB rewrite the flagged ones (json()), so every record's
   stored text is DuckDB's, as before: the content hash is the dedupe key across runs and input
   shapes.

   The whole document is declined (-1) whenever DuckDB's read of it could end otherwise than in
   these records: not exactly that shape, not valid JSON (a control character in a string, a
   bad escape or literal, a number the grammar refuses, anything after the document), a byte
   outside ASCII (UTF-8 validity, which DuckDB checks), a \u escape of a surrogate, or nesting
   deeper than MAX_DEPTH (the logs are attacker-controlled: recursion stays bounded). The
   ingest then gives the file to DuckDB's own read, which types, rejects and quarantines it as
   it always has.

   Reentrant: all state is in a Cursor on the caller's stack, so threads may split files side
   by side (ctypes releases the GIL during the call). */
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 256
#define SHORT_INT_DIGITS 18

typedef struct {
    const char *p;      /* next byte */
    const char *end;
    int bad;            /* the document is declined */
    int flag;           /* the current record's text may not be DuckDB's */
} Cursor;

static inline int is_blank(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static inline void skip_blanks(Cursor *c) {
    while (c->p < c->end && is_blank(*c->p)) c->p++;
}

/* blanks inside a record: allowed by JSON, absent from DuckDB's text */
static inline void record_blanks(Cursor *c) {
    const char *s = c->p;
    skip_blanks(c);
    if (c->p != s) c->flag = 1;
}

static inline int hex(char x) {
    return (x >= '0' && x <= '9') || (x >= 'a' && x <= 'f') || (x >= 'A' && x <= 'F');
}

static void string_(Cursor *c) {
    const char *q = c->p + 1;   /* after the opening quote */
    for (;;) {
        /* the common case: a run of plain ASCII up to a quote, a backslash or anything odd */
        while (q < c->end) {
            unsigned char u = (unsigned char)*q;
            if (u == '"' || u == '\\' || u < 0x20 || u >= 0x80) break;
            q++;
        }
        if (q >= c->end) { c->bad = 1; return; }
        unsigned char u = (unsigned char)*q;
        if (u == '"') { c->p = q + 1; return; }
        if (u < 0x20 || u >= 0x80) { c->bad = 1; return; }
        /* a backslash escape */
        c->flag = 1;
        if (q + 1 >= c->end) { c->bad = 1; return; }
        char e = q[1];
        if (e == 'u') {
            if (q + 5 >= c->end || !hex(q[2]) || !hex(q[3]) || !hex(q[4]) || !hex(q[5])) {
                c->bad = 1; return;
            }
            /* D800-DFFF: a surrogate, whose pairing DuckDB's reader judges */
            if ((q[2] == 'd' || q[2] == 'D') && (q[3] >= '8' && q[3] <= '9')) { c->bad = 1; return; }
            if ((q[2] == 'd' || q[2] == 'D') && ((q[3] >= 'a' && q[3] <= 'f') || (q[3] >= 'A' && q[3] <= 'F'))) {
                c->bad = 1; return;
            }
            q += 6;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                   e == 'r' || e == 't') {
            q += 2;
        } else {
            c->bad = 1; return;
        }
    }
}

static void number(Cursor *c) {
    const char *s = c->p, *q = c->p;
    if (q < c->end && *q == '-') q++;
    if (q >= c->end) { c->bad = 1; return; }
    const char *digits = q;
    if (*q == '0') q++;
    else if (*q >= '1' && *q <= '9') { while (q < c->end && *q >= '0' && *q <= '9') q++; }
    else { c->bad = 1; return; }
    int whole = (int)(q - digits);
    int plain = 1;
    if (q < c->end && *q == '.') {
        plain = 0; q++;
        const char *f = q;
        while (q < c->end && *q >= '0' && *q <= '9') q++;
        if (q == f) { c->bad = 1; return; }
    }
    if (q < c->end && (*q == 'e' || *q == 'E')) {
        plain = 0; q++;
        if (q < c->end && (*q == '+' || *q == '-')) q++;
        const char *x = q;
        while (q < c->end && *q >= '0' && *q <= '9') q++;
        if (q == x) { c->bad = 1; return; }
    }
    /* -0, a long integer, a fraction or an exponent: DuckDB may write it otherwise */
    if (!plain || whole > SHORT_INT_DIGITS || (*s == '-' && whole == 1 && *digits == '0'))
        c->flag = 1;
    c->p = q;
}

static void literal(Cursor *c, const char *word, int len) {
    if (c->end - c->p < len || memcmp(c->p, word, (size_t)len) != 0) { c->bad = 1; return; }
    c->p += len;
}

static void value(Cursor *c, int depth);

static void object(Cursor *c, int depth) {
    c->p++;
    record_blanks(c);
    if (c->p < c->end && *c->p == '}') { c->p++; return; }
    for (;;) {
        record_blanks(c);
        if (c->p >= c->end || *c->p != '"') { c->bad = 1; return; }
        string_(c); if (c->bad) return;
        record_blanks(c);
        if (c->p >= c->end || *c->p != ':') { c->bad = 1; return; }
        c->p++;
        record_blanks(c);
        value(c, depth + 1); if (c->bad) return;
        record_blanks(c);
        if (c->p < c->end && *c->p == ',') { c->p++; continue; }
        if (c->p < c->end && *c->p == '}') { c->p++; return; }
        c->bad = 1; return;
    }
}

static void array(Cursor *c, int depth) {
    c->p++;
    record_blanks(c);
    if (c->p < c->end && *c->p == ']') { c->p++; return; }
    for (;;) {
        record_blanks(c);
        value(c, depth + 1); if (c->bad) return;
        record_blanks(c);
        if (c->p < c->end && *c->p == ',') { c->p++; continue; }
        if (c->p < c->end && *c->p == ']') { c->p++; return; }
        c->bad = 1; return;
    }
}

static void value(Cursor *c, int depth) {
    if (c->p >= c->end || depth > MAX_DEPTH) { c->bad = 1; return; }
    switch (*c->p) {
    case '{': object(c, depth); break;
    case '[': array(c, depth); break;
    case '"': string_(c); break;
    case 't': literal(c, "true", 4); break;
    case 'f': literal(c, "false", 5); break;
    case 'n': literal(c, "null", 4); break;
    default: number(c); break;
    }
}

/* Split `buf` (n bytes). On success returns the number of records r, with their texts back to
   back in out[0 .. offsets[r]) (offsets[0] = 0) and flags[0 .. r). Returns -1 to decline the
   document (DuckDB reads it), -2 when more than `reccap` records or `outcap` bytes would be
   needed (call again with more room). */
int64_t sts_split(const char *buf, int64_t n, char *out, int64_t outcap, int64_t *offsets,
                  uint8_t *flags, int64_t reccap) {
    Cursor c = {buf, buf + n, 0, 0};
    int64_t r = 0, used = 0;
    offsets[0] = 0;
    skip_blanks(&c);
    if (c.p >= c.end || *c.p != '{') return -1;
    c.p++;
    skip_blanks(&c);
    if (c.end - c.p < 9 || memcmp(c.p, "\"Records\"", 9) != 0) return -1;
    c.p += 9;
    skip_blanks(&c);
    if (c.p >= c.end || *c.p != ':') return -1;
    c.p++;
    skip_blanks(&c);
    if (c.p >= c.end || *c.p != '[') return -1;
    c.p++;
    skip_blanks(&c);
    if (c.p < c.end && *c.p == ']') {
        c.p++;
    } else {
        for (;;) {
            skip_blanks(&c);
            if (c.p >= c.end || *c.p != '{') return -1;   /* a record that is no object */
            const char *start = c.p;
            c.flag = 0;
            object(&c, 1);
            if (c.bad) return -1;
            int64_t len = c.p - start;
            if (r >= reccap || used + len > outcap) return -2;
            memcpy(out + used, start, (size_t)len);
            used += len;
            flags[r] = (uint8_t)c.flag;
            offsets[++r] = used;
            skip_blanks(&c);
            if (c.p < c.end && *c.p == ',') { c.p++; continue; }
            if (c.p < c.end && *c.p == ']') { c.p++; break; }
            return -1;
        }
    }
    skip_blanks(&c);
    if (c.p >= c.end || *c.p != '}') return -1;   /* another key beside Records */
    c.p++;
    skip_blanks(&c);
    if (c.p != c.end) return -1;                   /* a second document, or trailing bytes */
    return r;
}
