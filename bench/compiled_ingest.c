/* bench/compiled_ingest.py's scanner (a prototype, not part of sts-audit): one pass over a
   decompressed CloudTrail delivery document {"Records":[...]} that keeps each record's
   minified text (the lossless raw column), its MD5, and up to 64 captured paths (a string's
   contents as written, or the minified JSON of another value; null is absent).
   A record with no blank outside its strings (what CloudTrail writes) is indexed without
   copying, then copied whole; one with blanks is parsed again, copying token by token.
   Not thread-safe (one scan at a time per process). */
#include <stdint.h>
#include <string.h>
#include <math.h>

#define MAXT 64
#define MAXD 8
#define NB 256

typedef struct {
    int ntargets;
    int depth[MAXT];
    const char *comp[MAXT][MAXD];
    int complen[MAXT][MAXD];
} Spec;

typedef struct {
    char *min; int64_t mincap; int64_t minlen;           /* minified records, back to back */
    int64_t *rec_off; int64_t *rec_len; uint64_t *rec_hash; int64_t reccap; int64_t nrec;
    int64_t *cap_off; int32_t *cap_len;                  /* per record x target; len -1 absent */
} Out;

/* MD5 (RFC 1321), so that the prototype needs no library beyond libc and libm */
static uint32_t md5_k[64];
static const int md5_r[64] = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21};

static void md5_tables(void) {
    for (int i = 0; i < 64; i++) md5_k[i] = (uint32_t)(fabs(sin(i + 1.0)) * 4294967296.0);
}

static void md5_block(uint32_t h[4], const unsigned char *p) {
    uint32_t w[16];
    memcpy(w, p, 64);   /* little-endian hosts only, as the prototype's machines are */
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f; int g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
        else { f = c ^ (b | ~d); g = (7 * i) & 15; }
        uint32_t t = d; d = c; c = b;
        uint32_t x = a + f + md5_k[i] + w[g];
        b = b + ((x << md5_r[i]) | (x >> (32 - md5_r[i])));
        a = t;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
}

static void md5(const unsigned char *p, size_t n, unsigned char out[16]) {
    uint32_t h[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    size_t full = n & ~(size_t)63;
    for (size_t i = 0; i < full; i += 64) md5_block(h, p + i);
    unsigned char tail[128] = {0};
    size_t rest = n - full;
    memcpy(tail, p + full, rest);
    tail[rest] = 0x80;
    size_t blocks = rest + 9 <= 64 ? 1 : 2;
    uint64_t bits = (uint64_t)n * 8;
    memcpy(tail + blocks * 64 - 8, &bits, 8);
    for (size_t i = 0; i < blocks; i++) md5_block(h, tail + i * 64);
    memcpy(out, h, 16);
}

/* per depth: component -> mask of the targets with that component at that depth */
typedef struct { const char *s; int len; uint64_t mask; } Entry;
static Entry table[MAXD][NB];
static const Spec *built;

static inline unsigned bucket(const char *s, int len) {
    unsigned h = (unsigned)len * 31u;
    if (len) h += (unsigned char)s[0] * 7u + (unsigned char)s[len - 1] * 131u + (unsigned char)s[len / 2];
    return h & (NB - 1);
}

static void build(const Spec *spec) {
    memset(table, 0, sizeof table);
    for (int j = 0; j < spec->ntargets; j++)
        for (int d = 0; d < spec->depth[j]; d++) {
            const char *s = spec->comp[j][d]; int len = spec->complen[j][d];
            unsigned b = bucket(s, len);
            for (;;) {
                Entry *e = &table[d][b];
                if (!e->s) { e->s = s; e->len = len; e->mask = 1ull << j; break; }
                if (e->len == len && memcmp(e->s, s, len) == 0) { e->mask |= 1ull << j; break; }
                b = (b + 1) & (NB - 1);
            }
        }
    built = spec;
}

static inline uint64_t lookup(int d, const char *s, int len) {
    unsigned b = bucket(s, len);
    for (;;) {
        const Entry *e = &table[d][b];
        if (!e->s) return 0;
        if (e->len == len && memcmp(e->s, s, len) == 0) return e->mask;
        b = (b + 1) & (NB - 1);
    }
}

static const Spec *S;
static Out *O;
static const char *P, *E, *R;   /* cursor, end, start of the current record */
static int err, copying, blank;

static inline void ws(void) {
    const char *s = P;
    while (P < E && (*P == ' ' || *P == '\n' || *P == '\r' || *P == '\t')) P++;
    if (P != s) blank = 1;
}
static inline int64_t here(void) { return copying ? O->minlen : O->minlen + (P - R); }
static inline void put(const char *s, int64_t n) {
    if (!copying) return;
    if (O->minlen + n > O->mincap) { err = 2; return; }
    memcpy(O->min + O->minlen, s, n); O->minlen += n;
}
static inline void putc_(char c) {
    if (!copying) return;
    if (O->minlen >= O->mincap) { err = 2; return; }
    O->min[O->minlen++] = c;
}

static void value(int d, uint64_t mask);

static inline void string_(void) {
    const char *s = P;
    const char *q = P + 1;
    for (;;) {
        q = memchr(q, '"', E - q);
        if (!q) { err = 1; return; }
        const char *b = q; while (b > s && b[-1] == '\\') b--;
        if (((q - b) & 1) == 0) break;   /* an even run of backslashes: the closing quote */
        q++;
    }
    P = q + 1;
    put(s, P - s);
}

static void object(int d, uint64_t mask) {
    P++; putc_('{'); ws();
    if (P < E && *P == '}') { P++; putc_('}'); return; }
    for (;;) {
        ws();
        if (P >= E || *P != '"') { err = 1; return; }
        const char *k = P + 1;
        string_(); if (err) return;
        uint64_t child = (mask && d < MAXD) ? mask & lookup(d, k, (int)(P - k - 1)) : 0;
        ws(); if (P >= E || *P != ':') { err = 1; return; } P++; putc_(':'); ws();
        value(d + 1, child); if (err) return;
        ws();
        if (P < E && *P == ',') { P++; putc_(','); continue; }
        if (P < E && *P == '}') { P++; putc_('}'); return; }
        err = 1; return;
    }
}

static void array(int d) {
    P++; putc_('['); ws();
    if (P < E && *P == ']') { P++; putc_(']'); return; }
    for (;;) {
        ws(); value(d + 1, 0); if (err) return; ws();
        if (P < E && *P == ',') { P++; putc_(','); continue; }
        if (P < E && *P == ']') { P++; putc_(']'); return; }
        err = 1; return;
    }
}

static void value(int d, uint64_t mask) {
    if (P >= E) { err = 1; return; }
    int64_t start = here();
    char c = *P;
    if (c == '{') object(d, mask);
    else if (c == '[') array(d);
    else if (c == '"') string_();
    else {
        const char *s = P;
        while (P < E && *P != ',' && *P != '}' && *P != ']' && *P != ' ' && *P != '\n' && *P != '\r' && *P != '\t') P++;
        put(s, P - s);
    }
    if (err || !mask || c == 'n') return;
    int64_t end = here();
    uint64_t m = mask;
    while (m) {
        int j = __builtin_ctzll(m); m &= m - 1;
        if (S->depth[j] == d) {
            int64_t i = O->nrec * S->ntargets + j;
            if (c == '"') { O->cap_off[i] = start + 1; O->cap_len[i] = (int32_t)(end - start - 2); }
            else { O->cap_off[i] = start; O->cap_len[i] = (int32_t)(end - start); }
        }
    }
}

static void clear_captures(void) {
    int32_t *l = O->cap_len + O->nrec * S->ntargets;
    for (int j = 0; j < S->ntargets; j++) l[j] = -1;
}

/* one record at P: index it, copy it whole; parse again copying if it had blanks */
static void record(void) {
    uint64_t all = (S->ntargets == 64) ? ~0ull : ((1ull << S->ntargets) - 1);
    R = P; copying = 0; blank = 0;
    clear_captures();
    value(0, all);
    if (err) return;
    int64_t start = O->minlen;
    if (!blank) {
        int64_t n = P - R;
        if (O->minlen + n > O->mincap) { err = 2; return; }
        memcpy(O->min + O->minlen, R, n); O->minlen += n;
    } else {
        P = R; copying = 1;
        clear_captures();
        value(0, all);
        copying = 0;
        if (err) return;
    }
    O->rec_off[O->nrec] = start; O->rec_len[O->nrec] = O->minlen - start;
    unsigned char dg[16];
    md5((const unsigned char *)O->min + start, (size_t)(O->minlen - start), dg);
    memcpy(&O->rec_hash[O->nrec], dg, 8);
    O->nrec++;
}

/* returns records added, or -1 (not a delivery document this prototype reads) / -2 (full) */
int64_t scan_delivery(const Spec *spec, Out *out, const char *buf, int64_t n) {
    if (built != spec) { build(spec); md5_tables(); }
    S = spec; O = out; P = buf; E = buf + n; err = 0; copying = 0;
    int64_t first = O->nrec, minsave = O->minlen;
    ws();
    if (P >= E || *P != '{') return -1;
    P++;
    for (;;) {
        ws();
        if (P >= E || *P != '"') goto bad;
        const char *k = P + 1;
        string_(); if (err) goto bad;
        int klen = (int)(P - k - 1);
        ws(); if (P >= E || *P != ':') goto bad; P++; ws();
        if (klen == 7 && memcmp(k, "Records", 7) == 0 && P < E && *P == '[') {
            P++; ws();
            if (P < E && *P == ']') P++;
            else for (;;) {
                ws();
                if (P >= E || *P != '{') goto bad;
                if (O->nrec >= O->reccap) { err = 2; goto bad; }
                record();
                if (err) goto bad;
                ws();
                if (P < E && *P == ',') { P++; continue; }
                if (P < E && *P == ']') { P++; break; }
                goto bad;
            }
        } else {
            copying = 0; R = P;
            value(0, 0); if (err) goto bad;
        }
        ws();
        if (P < E && *P == ',') { P++; continue; }
        if (P < E && *P == '}') break;
        goto bad;
    }
    return O->nrec - first;
bad:
    { int e = err; O->nrec = first; O->minlen = minsave; return e == 2 ? -2 : -1; }
}

/* bytes each target's column needs for records [0, nrec) */
void column_sizes(const Spec *spec, const Out *out, int64_t *sizes) {
    int T = spec->ntargets;
    for (int j = 0; j < T; j++) sizes[j] = 0;
    for (int64_t r = 0; r < out->nrec; r++) {
        const int32_t *l = out->cap_len + r * T;
        for (int j = 0; j < T; j++) if (l[j] > 0) sizes[j] += l[j];
    }
}

/* every target's column: data[j], offsets[j] (nrec + 1), validity bitmap[j] */
void gather_all(const Spec *spec, const Out *out, char **data, int64_t **offsets, uint8_t **bitmap) {
    int T = spec->ntargets; int64_t n = out->nrec;
    for (int j = 0; j < T; j++) { memset(bitmap[j], 0, (size_t)((n + 7) / 8)); offsets[j][0] = 0; }
    int64_t pos[MAXT] = {0};
    for (int64_t r = 0; r < n; r++) {
        const int32_t *l = out->cap_len + r * T;
        const int64_t *o = out->cap_off + r * T;
        for (int j = 0; j < T; j++) {
            if (l[j] >= 0) {
                memcpy(data[j] + pos[j], out->min + o[j], (size_t)l[j]);
                pos[j] += l[j];
                bitmap[j][r >> 3] |= (uint8_t)(1u << (r & 7));
            }
            offsets[j][r + 1] = pos[j];
        }
    }
}
