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

   Given the paths of the fields the lake types (sts_prepare, once), it also notes where each
   record holds them (the first occurrence, as DuckDB's json_transform takes): a string's
   contents, or the text of any other value (with its quotes for the fields typed as JSON);
   null is absent. sts_gather copies them out as Arrow string columns. A record's session tokens
   are hashed with the lake's salt (16), as DuckDB hashes them; a record with more than
   MAX_TOKENS, or whose text DuckDB rewrites, keeps them for DuckDB (2). One that repeats a key
   on a field's path (4) is typed by DuckDB: json_transform keeps the first, null or not.

   Reentrant: all state is in a Cursor on the caller's stack, so threads may split files side
   by side (ctypes releases the GIL during the call); sts_prepare runs before any split. */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define MAX_DEPTH 256
#define SHORT_INT_DIGITS 18
#define MAX_TARGETS 64
#define MAX_LEVELS 8
#define BUCKETS 256
#define FLAG_REWRITE 1
#define FLAG_TOKEN 2          /* a session token left for DuckDB to hash */
#define FLAG_REPEATED 4
#define FLAG_HASHED 16        /* its session tokens hashed here, as DuckDB hashes them */
#define FLAG_PLAIN 32         /* typed by pipeline/plain.py, not DuckDB (plain_record) */
#define MAX_TOKENS 8
#define HASHED_LEN 71         /* "sha256:" and 64 hex digits */

/* the fields to note: per path level, key -> mask of the targets with that key there */
typedef struct { const char *key; int len; uint64_t mask; } Entry;
static Entry table[MAX_LEVELS][BUCKETS];
static int path_len[MAX_TARGETS];
static int as_json[MAX_TARGETS];
static int ntargets;
static char paths_copy[8192];
static const char *target_path[MAX_TARGETS];

typedef struct {
    const char *p;      /* next byte */
    const char *end;
    int bad;            /* the document is declined */
    int flag;           /* FLAG_ bits of the current record */
    const char *rec;    /* the current record's first byte */
    int64_t base;       /* where its copy starts in the output */
    int64_t *cap_off;   /* its ntargets slots, or NULL when nothing is noted */
    int32_t *cap_len;
    int ntok;           /* its session tokens' contents, from the record's first byte */
    int64_t tok_at[MAX_TOKENS];
    int32_t tok_len[MAX_TOKENS];
} Cursor;

/* SHA-256 (FIPS 180-4), for the session tokens: hex of sha256(salt || token), as DuckDB's
   sha256($salt || token) in stg_records_parsed */
static const uint32_t K256[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *b) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
               (uint32_t)b[4 * i + 2] << 8 | (uint32_t)b[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
        hh = g; g = f; f = e; e = d + t1; d = c; c = bb; bb = a; a = t1 + t2;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

/* 64 lowercase hex digits of sha256(x || y) into `hex` */
static void sha256_hex(const char *x, int64_t nx, const char *y, int64_t ny, char *hex) {
    uint32_t h[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                     0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    unsigned char block[64];
    int fill = 0;
    const char *parts[2] = {x, y};
    int64_t sizes[2] = {nx, ny};
    for (int p = 0; p < 2; p++)
        for (int64_t i = 0; i < sizes[p]; i++) {
            block[fill++] = (unsigned char)parts[p][i];
            if (fill == 64) { sha256_block(h, block); fill = 0; }
        }
    uint64_t bits = (uint64_t)(nx + ny) * 8;
    block[fill++] = 0x80;
    if (fill > 56) { while (fill < 64) block[fill++] = 0; sha256_block(h, block); fill = 0; }
    while (fill < 56) block[fill++] = 0;
    for (int i = 7; i >= 0; i--) block[fill++] = (unsigned char)(bits >> (8 * i));
    sha256_block(h, block);
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) hex[8 * i + j] = digits[(h[i] >> (28 - 4 * j)) & 15];
}

/* MD5 (RFC 1321), for the content hash DuckDB's md5() gives (stg_scanned_records): the
   record's text as written, its session tokens' contents left out (blanked) */
typedef struct { uint32_t h[4]; uint64_t len; unsigned char buf[64]; int fill; } Md5;

#define MD5_F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MD5_G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define MD5_H(x, y, z) ((x) ^ (y) ^ (z))
#define MD5_I(x, y, z) ((y) ^ ((x) | ~(z)))
#define MD5_STEP(f, a, b, c, d, x, t, s) \
    (a) += f((b), (c), (d)) + (x) + (t); \
    (a) = (((a) << (s)) | ((a) >> (32 - (s)))); \
    (a) += (b);

static void md5_block(uint32_t h[4], const unsigned char *p) {
    uint32_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    MD5_STEP(MD5_F, a, b, c, d, m[0], 0xd76aa478u, 7)
    MD5_STEP(MD5_F, d, a, b, c, m[1], 0xe8c7b756u, 12)
    MD5_STEP(MD5_F, c, d, a, b, m[2], 0x242070dbu, 17)
    MD5_STEP(MD5_F, b, c, d, a, m[3], 0xc1bdceeeu, 22)
    MD5_STEP(MD5_F, a, b, c, d, m[4], 0xf57c0fafu, 7)
    MD5_STEP(MD5_F, d, a, b, c, m[5], 0x4787c62au, 12)
    MD5_STEP(MD5_F, c, d, a, b, m[6], 0xa8304613u, 17)
    MD5_STEP(MD5_F, b, c, d, a, m[7], 0xfd469501u, 22)
    MD5_STEP(MD5_F, a, b, c, d, m[8], 0x698098d8u, 7)
    MD5_STEP(MD5_F, d, a, b, c, m[9], 0x8b44f7afu, 12)
    MD5_STEP(MD5_F, c, d, a, b, m[10], 0xffff5bb1u, 17)
    MD5_STEP(MD5_F, b, c, d, a, m[11], 0x895cd7beu, 22)
    MD5_STEP(MD5_F, a, b, c, d, m[12], 0x6b901122u, 7)
    MD5_STEP(MD5_F, d, a, b, c, m[13], 0xfd987193u, 12)
    MD5_STEP(MD5_F, c, d, a, b, m[14], 0xa679438eu, 17)
    MD5_STEP(MD5_F, b, c, d, a, m[15], 0x49b40821u, 22)
    MD5_STEP(MD5_G, a, b, c, d, m[1], 0xf61e2562u, 5)
    MD5_STEP(MD5_G, d, a, b, c, m[6], 0xc040b340u, 9)
    MD5_STEP(MD5_G, c, d, a, b, m[11], 0x265e5a51u, 14)
    MD5_STEP(MD5_G, b, c, d, a, m[0], 0xe9b6c7aau, 20)
    MD5_STEP(MD5_G, a, b, c, d, m[5], 0xd62f105du, 5)
    MD5_STEP(MD5_G, d, a, b, c, m[10], 0x02441453u, 9)
    MD5_STEP(MD5_G, c, d, a, b, m[15], 0xd8a1e681u, 14)
    MD5_STEP(MD5_G, b, c, d, a, m[4], 0xe7d3fbc8u, 20)
    MD5_STEP(MD5_G, a, b, c, d, m[9], 0x21e1cde6u, 5)
    MD5_STEP(MD5_G, d, a, b, c, m[14], 0xc33707d6u, 9)
    MD5_STEP(MD5_G, c, d, a, b, m[3], 0xf4d50d87u, 14)
    MD5_STEP(MD5_G, b, c, d, a, m[8], 0x455a14edu, 20)
    MD5_STEP(MD5_G, a, b, c, d, m[13], 0xa9e3e905u, 5)
    MD5_STEP(MD5_G, d, a, b, c, m[2], 0xfcefa3f8u, 9)
    MD5_STEP(MD5_G, c, d, a, b, m[7], 0x676f02d9u, 14)
    MD5_STEP(MD5_G, b, c, d, a, m[12], 0x8d2a4c8au, 20)
    MD5_STEP(MD5_H, a, b, c, d, m[5], 0xfffa3942u, 4)
    MD5_STEP(MD5_H, d, a, b, c, m[8], 0x8771f681u, 11)
    MD5_STEP(MD5_H, c, d, a, b, m[11], 0x6d9d6122u, 16)
    MD5_STEP(MD5_H, b, c, d, a, m[14], 0xfde5380cu, 23)
    MD5_STEP(MD5_H, a, b, c, d, m[1], 0xa4beea44u, 4)
    MD5_STEP(MD5_H, d, a, b, c, m[4], 0x4bdecfa9u, 11)
    MD5_STEP(MD5_H, c, d, a, b, m[7], 0xf6bb4b60u, 16)
    MD5_STEP(MD5_H, b, c, d, a, m[10], 0xbebfbc70u, 23)
    MD5_STEP(MD5_H, a, b, c, d, m[13], 0x289b7ec6u, 4)
    MD5_STEP(MD5_H, d, a, b, c, m[0], 0xeaa127fau, 11)
    MD5_STEP(MD5_H, c, d, a, b, m[3], 0xd4ef3085u, 16)
    MD5_STEP(MD5_H, b, c, d, a, m[6], 0x04881d05u, 23)
    MD5_STEP(MD5_H, a, b, c, d, m[9], 0xd9d4d039u, 4)
    MD5_STEP(MD5_H, d, a, b, c, m[12], 0xe6db99e5u, 11)
    MD5_STEP(MD5_H, c, d, a, b, m[15], 0x1fa27cf8u, 16)
    MD5_STEP(MD5_H, b, c, d, a, m[2], 0xc4ac5665u, 23)
    MD5_STEP(MD5_I, a, b, c, d, m[0], 0xf4292244u, 6)
    MD5_STEP(MD5_I, d, a, b, c, m[7], 0x432aff97u, 10)
    MD5_STEP(MD5_I, c, d, a, b, m[14], 0xab9423a7u, 15)
    MD5_STEP(MD5_I, b, c, d, a, m[5], 0xfc93a039u, 21)
    MD5_STEP(MD5_I, a, b, c, d, m[12], 0x655b59c3u, 6)
    MD5_STEP(MD5_I, d, a, b, c, m[3], 0x8f0ccc92u, 10)
    MD5_STEP(MD5_I, c, d, a, b, m[10], 0xffeff47du, 15)
    MD5_STEP(MD5_I, b, c, d, a, m[1], 0x85845dd1u, 21)
    MD5_STEP(MD5_I, a, b, c, d, m[8], 0x6fa87e4fu, 6)
    MD5_STEP(MD5_I, d, a, b, c, m[15], 0xfe2ce6e0u, 10)
    MD5_STEP(MD5_I, c, d, a, b, m[6], 0xa3014314u, 15)
    MD5_STEP(MD5_I, b, c, d, a, m[13], 0x4e0811a1u, 21)
    MD5_STEP(MD5_I, a, b, c, d, m[4], 0xf7537e82u, 6)
    MD5_STEP(MD5_I, d, a, b, c, m[11], 0xbd3af235u, 10)
    MD5_STEP(MD5_I, c, d, a, b, m[2], 0x2ad7d2bbu, 15)
    MD5_STEP(MD5_I, b, c, d, a, m[9], 0xeb86d391u, 21)
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
}

static void md5_init(Md5 *m) {
    m->h[0] = 0x67452301u; m->h[1] = 0xefcdab89u; m->h[2] = 0x98badcfeu; m->h[3] = 0x10325476u;
    m->len = 0;
    m->fill = 0;
}

static void md5_update(Md5 *m, const char *s, int64_t n) {
    const unsigned char *p = (const unsigned char *)s;
    m->len += (uint64_t)n;
    if (m->fill) {
        while (n > 0 && m->fill < 64) { m->buf[m->fill++] = *p++; n--; }
        if (m->fill < 64) return;
        md5_block(m->h, m->buf);
        m->fill = 0;
    }
    for (; n >= 64; n -= 64, p += 64) md5_block(m->h, p);
    memcpy(m->buf, p, (size_t)n);
    m->fill = (int)n;
}

/* 32 lowercase hex digits into `hex` */
static void md5_hex(Md5 *m, char *hex) {
    uint64_t bits = m->len * 8;
    m->buf[m->fill++] = 0x80;
    if (m->fill > 56) {
        while (m->fill < 64) m->buf[m->fill++] = 0;
        md5_block(m->h, m->buf);
        m->fill = 0;
    }
    while (m->fill < 56) m->buf[m->fill++] = 0;
    for (int i = 0; i < 8; i++) m->buf[56 + i] = (unsigned char)(bits >> (8 * i));
    md5_block(m->h, m->buf);
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        unsigned char byte = (unsigned char)(m->h[i / 4] >> (8 * (i % 4)));
        hex[2 * i] = digits[byte >> 4];
        hex[2 * i + 1] = digits[byte & 15];
    }
}

static inline unsigned bucket(const char *k, int len) {
    unsigned h = (unsigned)len * 31u;
    if (len) h += (unsigned char)k[0] * 7u + (unsigned char)k[len - 1] * 131u + (unsigned char)k[len / 2];
    return h & (BUCKETS - 1);
}

static uint64_t lookup(int level, const char *k, int len) {
    unsigned b = bucket(k, len);
    for (;;) {
        const Entry *e = &table[level][b];
        if (!e->key) return 0;
        if (e->len == len && memcmp(e->key, k, (size_t)len) == 0) return e->mask;
        b = (b + 1) & (BUCKETS - 1);
    }
}

/* -- plain records (pipeline/plain.py types them with pyarrow) ------------------------------
   A record typed from its fields is plain when every column stg_events computes from it is a
   field as it is, or a conversion that leaves nothing to interpret: its event time and creation
   date in CloudTrail's own form (2026-11-01T10:00:00Z; 20261101T100000Z for the creation date)
   on a day the calendar has, its booleans `true` or `false`, its recipient account 12 digits, an
   event source and name, not an Insight, and not a service whose blobs stg_records_detailed
   parses. The others are typed by DuckDB, as before. */
enum { P_TIME, P_CREATED, P_SOURCE, P_NAME, P_TYPE, P_CATEGORY, P_RECIPIENT, P_READ_ONLY,
       P_MANAGEMENT, P_MFA, PLAIN_FIELDS };
static const char *const PLAIN_PATHS[PLAIN_FIELDS] = {
    "eventTime", "userIdentity.sessionContext.attributes.creationDate", "eventSource",
    "eventName", "eventType", "eventCategory", "recipientAccountId", "readOnly",
    "managementEvent", "userIdentity.sessionContext.attributes.mfaAuthenticated"};
static int plain_at[PLAIN_FIELDS];
static const char *const CREDENTIAL_SOURCES[] = {
    "sts.amazonaws.com", "signin.amazonaws.com", "sso.amazonaws.com",
    "cognito-identity.amazonaws.com"};
#define NO_TIME INT64_MIN

static inline int is_text(const char *s, int32_t len, const char *word) {
    return len == (int32_t)strlen(word) && memcmp(s, word, (size_t)len) == 0;
}

static inline int digits(const char *s, int n, int *value) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        v = v * 10 + (s[i] - '0');
    }
    *value = v;
    return 1;
}

/* microseconds since 1970 of `s` in the extended (or, with `basic`, the basic) ISO form with
   a Z, years 1000-9999, a day the calendar has; NO_TIME when it is not exactly that */
static int64_t strict_time(const char *s, int32_t len, int basic) {
    static const char ext_shape[] = "dddd-dd-ddTdd:dd:ddZ", basic_shape[] = "ddddddddTddddddZ";
    const char *shape = basic ? basic_shape : ext_shape;
    if (len != (int32_t)strlen(shape)) return NO_TIME;
    for (int i = 0; i < len; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return NO_TIME;
    int at_month = basic ? 4 : 5, at_day = basic ? 6 : 8, at_hour = basic ? 9 : 11;
    int at_minute = basic ? 11 : 14, at_second = basic ? 13 : 17;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    digits(s, 4, &y); digits(s + at_month, 2, &mo); digits(s + at_day, 2, &d);
    digits(s + at_hour, 2, &h); digits(s + at_minute, 2, &mi); digits(s + at_second, 2, &se);
    static const int days_in[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1000 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) return NO_TIME;
    if (d > days_in[mo - 1] + (mo == 2 && leap)) return NO_TIME;
    /* days from 1970-01-01 (the proleptic Gregorian calendar, as days_from_civil) */
    int64_t yy = y - (mo <= 2), era = yy / 400, yoe = yy - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
    return ((days * 86400) + h * 3600 + mi * 60 + se) * 1000000LL;
}

/* whether the record whose fields are at `off`/`len` (into `out`) is plain; its event time
   and creation date (NO_TIME when absent) into times[0..1] */
static int plain_record(const char *out, const int64_t *off, const int32_t *len, int64_t *times) {
    const char *f[PLAIN_FIELDS];
    int32_t n[PLAIN_FIELDS];
    for (int k = 0; k < PLAIN_FIELDS; k++) {
        n[k] = len[plain_at[k]];
        f[k] = n[k] >= 0 ? out + off[plain_at[k]] : NULL;
    }
    times[0] = times[1] = NO_TIME;
    if (!f[P_SOURCE] || !f[P_NAME] || !f[P_TIME] || !f[P_RECIPIENT]) return 0;
    for (size_t k = 0; k < sizeof CREDENTIAL_SOURCES / sizeof *CREDENTIAL_SOURCES; k++)
        if (is_text(f[P_SOURCE], n[P_SOURCE], CREDENTIAL_SOURCES[k])) return 0;
    if (f[P_TYPE] && is_text(f[P_TYPE], n[P_TYPE], "AwsCloudTrailInsight")) return 0;
    if (f[P_CATEGORY] && is_text(f[P_CATEGORY], n[P_CATEGORY], "Insight")) return 0;
    int account;
    if (n[P_RECIPIENT] != 12 || !digits(f[P_RECIPIENT], 6, &account) ||
        !digits(f[P_RECIPIENT] + 6, 6, &account))
        return 0;
    const int booleans[] = {P_READ_ONLY, P_MANAGEMENT, P_MFA};
    for (int k = 0; k < 3; k++) {
        int b = booleans[k];
        if (f[b] && !is_text(f[b], n[b], "true") && !is_text(f[b], n[b], "false")) return 0;
    }
    times[0] = strict_time(f[P_TIME], n[P_TIME], 0);
    if (times[0] == NO_TIME) return 0;
    if (f[P_CREATED]) {
        times[1] = strict_time(f[P_CREATED], n[P_CREATED], 0);
        if (times[1] == NO_TIME) times[1] = strict_time(f[P_CREATED], n[P_CREATED], 1);
        if (times[1] == NO_TIME) return 0;
    }
    return 1;
}

/* The interface's version: scan.py refuses a library built from another _scan.c (an
   editable install not rebuilt since a change), whose functions take other arguments. */
int64_t sts_abi_version(void) { return 2; }

/* `paths`: the targets' dotted paths, one a line; `json`: 1 where a field is typed JSON.
   Returns the number of targets, or -1 (too many, too deep, too long). */
int sts_prepare(const char *paths, const uint8_t *json) {
    size_t n = strlen(paths);
    if (n >= sizeof paths_copy) return -1;
    memcpy(paths_copy, paths, n + 1);
    memset(table, 0, sizeof table);
    int t = 0;
    char *line = paths_copy;
    while (*line) {
        if (t >= MAX_TARGETS) return -1;
        char *next = strchr(line, '\n');
        if (next) *next = 0;
        target_path[t] = line;
        int level = 0;
        char *part = line;
        for (;;) {
            char *dot = strchr(part, '.');
            int len = dot ? (int)(dot - part) : (int)strlen(part);
            if (level >= MAX_LEVELS) return -1;
            unsigned b = bucket(part, len);
            for (;;) {
                Entry *e = &table[level][b];
                if (!e->key) { e->key = part; e->len = len; e->mask = 1ull << t; break; }
                if (e->len == len && memcmp(e->key, part, (size_t)len) == 0) { e->mask |= 1ull << t; break; }
                b = (b + 1) & (BUCKETS - 1);
            }
            level++;
            if (!dot) break;
            part = dot + 1;
        }
        path_len[t] = level;
        as_json[t] = json[t] ? 1 : 0;
        t++;
        if (!next) break;
        line = next + 1;
    }
    ntargets = t;
    for (int k = 0; k < PLAIN_FIELDS; k++) {
        plain_at[k] = -1;
        for (int j = 0; j < t; j++)
            if (strcmp(target_path[j], PLAIN_PATHS[k]) == 0) plain_at[k] = j;
        if (plain_at[k] < 0) return -1;
    }
    return t;
}

/* the value [s, e) of the targets in `mask` whose path ends at `level` */
static inline void note(Cursor *c, uint64_t mask, int level, const char *s, const char *e) {
    if (!c->cap_off || *s == 'n') return;
    while (mask) {
        int j = __builtin_ctzll(mask);
        mask &= mask - 1;
        if (path_len[j] != level || c->cap_len[j] >= 0) continue;
        if (*s == '"' && !as_json[j]) {
            c->cap_off[j] = c->base + (s + 1 - c->rec);
            c->cap_len[j] = (int32_t)(e - s - 2);
        } else {
            c->cap_off[j] = c->base + (s - c->rec);
            c->cap_len[j] = (int32_t)(e - s);
        }
    }
}

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
#ifdef __SSE2__
        /* sixteen bytes at a time: as signed bytes, a control character (< 0x20) and any byte
           of 0x80 or more are both less than 0x20 */
        while (c->end - q >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)q);
            __m128i odd = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                             _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
                _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
            int mask = _mm_movemask_epi8(odd);
            if (mask) { q += __builtin_ctz((unsigned)mask); break; }
            q += 16;
        }
#endif
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

static void value(Cursor *c, int depth, uint64_t mask, int level);

/* `level`: the path level of this object's keys; `mask`: the targets whose path so far matches */
static void object(Cursor *c, int depth, uint64_t mask, int level) {
    c->p++;
    record_blanks(c);
    if (c->p < c->end && *c->p == '}') { c->p++; return; }
    uint64_t seen = 0;   /* targets under the keys read so far: a key of theirs repeated */
    for (;;) {
        record_blanks(c);
        if (c->p >= c->end || *c->p != '"') { c->bad = 1; return; }
        const char *k = c->p + 1;
        string_(c); if (c->bad) return;
        int klen = (int)(c->p - k - 1);
        int is_token = klen == 12 && memcmp(k, "sessionToken", 12) == 0;
        /* a token under a key CloudTrail does not write (`SessionToken`, `session_token`):
           DuckDB types the record, and stg_events redacts what the hash here would miss */
        if (!is_token && (*k | 0x20) == 's'
            && ((klen == 12 && strncasecmp(k, "sessiontoken", 12) == 0)
                || (klen == 13 && (strncasecmp(k, "session_token", 13) == 0
                                   || strncasecmp(k, "session-token", 13) == 0))))
            c->flag |= FLAG_REWRITE;
        uint64_t child = (mask && level < MAX_LEVELS) ? mask & lookup(level, k, klen) : 0;
        if (child & seen) c->flag |= FLAG_REPEATED;
        seen |= child;
        record_blanks(c);
        if (c->p >= c->end || *c->p != ':') { c->bad = 1; return; }
        c->p++;
        record_blanks(c);
        const char *v = c->p;
        value(c, depth + 1, child, level + 1); if (c->bad) return;
        /* `"sessionToken":"...`: what DuckDB's redaction finds (not a token that is no string) */
        if (is_token && *v == '"') {
            c->flag |= FLAG_TOKEN;
            if (c->ntok < MAX_TOKENS) {
                c->tok_at[c->ntok] = (v + 1) - c->rec;
                c->tok_len[c->ntok] = (int32_t)(c->p - v - 2);
            }
            c->ntok++;
        }
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
        value(c, depth + 1, 0, 0); if (c->bad) return;
        record_blanks(c);
        if (c->p < c->end && *c->p == ',') { c->p++; continue; }
        if (c->p < c->end && *c->p == ']') { c->p++; return; }
        c->bad = 1; return;
    }
}

static void value(Cursor *c, int depth, uint64_t mask, int level) {
    if (c->p >= c->end || depth > MAX_DEPTH) { c->bad = 1; return; }
    const char *start = c->p;
    switch (*c->p) {
    case '{': object(c, depth, mask, level); break;
    case '[': array(c, depth); break;
    case '"': string_(c); break;
    case 't': literal(c, "true", 4); break;
    case 'f': literal(c, "false", 5); break;
    case 'n': literal(c, "null", 4); break;
    default: number(c); break;
    }
    if (mask && !c->bad) note(c, mask, level, start, c->p);
}

/* Split `buf` (n bytes) into `out` from byte `start_at` on. On success returns the number of
   records r, with their texts back to back in out[offsets[0] .. offsets[r]) (offsets[0] =
   start_at) and flags[0 .. r). Returns -1 to decline the document (DuckDB reads it), -2 when
   more than `reccap` records or `outcap` bytes of `out` in all would be needed (call again with
   more room), -3 when more than `outcap` bytes of `out` would be. With `cap_off` and `cap_len`
   (reccap x ntargets each), record i's field j is out[cap_off[i*T+j] ..+ cap_len[i*T+j]),
   absent when the length is -1. With `salt` (and fields noted), the session tokens of a
   record typed from its fields are written hashed, `"sessionToken":"sha256:<hex>"`, as
   stg_records_parsed writes them (flag FLAG_HASHED). With `hashes` (reccap x 32 bytes), a
   record typed from its fields (flags 0 or FLAG_HASHED) gets the 32 hex digits of its content
   hash there: the MD5 of its text as written, its tokens' contents left out. With `times`
   (reccap x 2), a plain record (FLAG_PLAIN, plain_record) gets its event time and creation
   date there, in microseconds (INT64_MIN when absent). */
int64_t sts_split(const char *buf, int64_t n, char *out, int64_t outcap, int64_t start_at,
                  int64_t *offsets, uint8_t *flags, int64_t reccap, int64_t *cap_off,
                  int32_t *cap_len, const char *salt, int64_t saltlen, char *hashes,
                  int64_t *times) {
    Cursor c;
    memset(&c, 0, sizeof c);
    c.p = buf;
    c.end = buf + n;
    uint64_t all = ntargets == 64 ? ~0ull : ((1ull << ntargets) - 1);
    int64_t r = 0, used = start_at;
    offsets[0] = start_at;
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
            c.ntok = 0;
            if (r >= reccap) return -2;
            c.rec = start;
            c.base = used;
            if (cap_off && ntargets) {
                c.cap_off = cap_off + r * ntargets;
                c.cap_len = cap_len + r * ntargets;
                for (int j = 0; j < ntargets; j++) c.cap_len[j] = -1;
            }
            object(&c, 1, cap_off ? all : 0, 0);
            if (c.bad) return -1;
            int64_t len = c.p - start, written = len;
            /* a record typed from its fields has its tokens hashed here, its text and fields
               written with them; any other is left for DuckDB to hash */
            int hash_here = c.ntok > 0 && c.ntok <= MAX_TOKENS && salt && c.cap_off &&
                            !(c.flag & (FLAG_REWRITE | FLAG_REPEATED));
            int64_t grown = 0;
            if (hash_here)
                for (int k = 0; k < c.ntok; k++) grown += HASHED_LEN - c.tok_len[k];
            if (used + len + grown > outcap) return -3;
            if (!hash_here) {
                memcpy(out + used, start, (size_t)len);
            } else {
                const char *src = start;
                int64_t o = used;
                for (int k = 0; k < c.ntok; k++) {
                    const char *tok = start + c.tok_at[k];
                    memcpy(out + o, src, (size_t)(tok - src));
                    o += tok - src;
                    memcpy(out + o, "sha256:", 7);
                    sha256_hex(salt, saltlen, tok, c.tok_len[k], out + o + 7);
                    o += HASHED_LEN;
                    src = tok + c.tok_len[k];
                }
                memcpy(out + o, src, (size_t)(start + len - src));
                /* the fields after a token move, the ones around it grow */
                for (int j = 0; j < ntargets; j++) {
                    if (c.cap_len[j] < 0) continue;
                    int64_t rel = c.cap_off[j] - used, shift = 0, grow = 0;
                    for (int k = 0; k < c.ntok; k++) {
                        int64_t delta = HASHED_LEN - c.tok_len[k];
                        if (c.tok_at[k] + c.tok_len[k] <= rel) shift += delta;
                        else if (c.tok_at[k] >= rel && c.tok_at[k] + c.tok_len[k] <= rel + c.cap_len[j])
                            grow += delta;
                    }
                    c.cap_off[j] += shift;
                    c.cap_len[j] += (int32_t)grow;
                }
                c.flag = (c.flag & ~FLAG_TOKEN) | FLAG_HASHED;
                len += grown;
            }
            /* the content hash of a record typed from its fields: its text as written, the
               contents of its session tokens left out (`"sessionToken":""`) */
            if (hashes && (c.flag | FLAG_HASHED) == FLAG_HASHED) {
                Md5 m;
                md5_init(&m);
                const char *src = start;
                for (int k = 0; c.flag == FLAG_HASHED && k < c.ntok; k++) {
                    const char *tok = start + c.tok_at[k];
                    md5_update(&m, src, tok - src);
                    src = tok + c.tok_len[k];
                }
                md5_update(&m, src, start + written - src);
                md5_hex(&m, hashes + 32 * r);
            } else if (hashes) {
                memset(hashes + 32 * r, '0', 32);
            }
            if (times) times[2 * r] = times[2 * r + 1] = NO_TIME;
            if (times && c.cap_off && (c.flag | FLAG_HASHED) == FLAG_HASHED &&
                plain_record(out, c.cap_off, c.cap_len, times + 2 * r))
                c.flag |= FLAG_PLAIN;
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

/* Arrow string columns of `t` fields of `nrows` records (cap_off, cap_len: nrows x t, into
   `out`; a length of -1 is absent): first with data = NULL, sizes[j] = the bytes column j needs;
   then with data[j] of those sizes, offsets[j] (nrows + 1, int64) and validity[j]
   ((nrows + 7) / 8 bytes) filled. */
void sts_gather(const char *out, int64_t nrows, int t, const int64_t *cap_off,
                const int32_t *cap_len, int64_t *sizes, char **data, int64_t **offsets,
                uint8_t **validity) {
    if (!data) {
        for (int j = 0; j < t; j++) sizes[j] = 0;
        for (int64_t i = 0; i < nrows; i++) {
            const int32_t *l = cap_len + i * t;
            for (int j = 0; j < t; j++) if (l[j] > 0) sizes[j] += l[j];
        }
        return;
    }
    for (int j = 0; j < t; j++) {
        memset(validity[j], 0, (size_t)((nrows + 7) / 8));
        offsets[j][0] = 0;
    }
    int64_t pos[MAX_TARGETS + 1] = {0};
    if (t > MAX_TARGETS + 1) return;
    for (int64_t i = 0; i < nrows; i++) {
        const int32_t *l = cap_len + i * t;
        const int64_t *o = cap_off + i * t;
        for (int j = 0; j < t; j++) {
            if (l[j] >= 0) {
                memcpy(data[j] + pos[j], out + o[j], (size_t)l[j]);
                pos[j] += l[j];
                validity[j][i >> 3] |= (uint8_t)(1u << (i & 7));
            }
            offsets[j][i + 1] = pos[j];
        }
    }
}

/* ---- A large single document, walked a block at a time (pipeline/slices.py) ----------------

   sts_walk() finds the elements of a document's record list without holding the document: the
   root array's elements, or those of the array under the root object's "Records" or "Events"
   key (a delivery file, or a LookupEvents page such as the AWS CLI writes when it pages through
   lookup-events: one document of every page). The caller feeds the decompressed document in
   blocks; the Walk carries strings, escapes and the open brackets from one block to the next,
   and the caller carries the bytes of the value a block cuts into the next block.

   The ingest reads a document this way only when the walk finds nothing DuckDB's read of the
   whole document could judge otherwise (pipeline/batch.py walks it once first): each element
   and every other value at the root is checked as strict JSON (RFC 8259, valid UTF-8, no lone
   surrogate escape) by valid_value(), the root's own grammar is checked, and a root key that
   makes the document something else (eventTime, ..., an escaped key, Records or Events twice)
   stops the walk. Documents one after the other (a `cat` of delivery files) are walked one
   after the other, each element numbered within its own document, as DuckDB reads them; one
   of them without a record list stops the walk. Whatever stops it is read whole, by
   DuckDB, as before; only a document cut short is read by its list up to the cut. */

#define WALK_MAX_DEPTH 1024
#define WALK_KEY 32

enum { LIST_NONE = 0, LIST_RECORDS = 1, LIST_EVENTS = 2, LIST_ARRAY = 3 };
enum { KEY_OTHER = 0, KEY_RECORDS = 1, KEY_EVENTS = 2, KEY_RECORD_FIELD = 3 };
enum {
    WALK_OK = 0,
    WALK_NOT_JSON = 1,     /* bad grammar at the root or in the list, or a value not valid JSON */
    WALK_AFTER = 2,        /* something after the document */
    WALK_NOT_LIST = 3,     /* a root that is not an array or an object */
    WALK_TWO_LISTS = 4,    /* Records or Events twice, or both */
    WALK_RECORD_KEY = 5,   /* a root key that makes the document one record (eventTime, ...) */
    WALK_TOO_DEEP = 6,
    WALK_ESCAPED_KEY = 7,  /* a root key with an escape or a byte outside ASCII */
    WALK_MORE = 8,         /* a document without a record list among several */
    WALK_TOO_LARGE = 9     /* a value larger than the caller's limit (sts_walk_limit) */
};
/* the root object's grammar, between its values */
enum { R_KEY_OR_END = 0, R_KEY = 1, R_COLON = 2, R_VALUE = 3, R_IN_VALUE = 4, R_COMMA_OR_END = 5 };

typedef struct {
    int64_t seg_start;   /* where the value being read starts in the buffer, or -1 */
    int64_t seg_end;     /* one past its last non-blank byte so far */
    int64_t elements;    /* elements found so far */
    int64_t doc_elements;/* of them, in the current document */
    int64_t limit;       /* the largest value the caller carries (0: no limit) */
    int32_t seg_emit;    /* the value is a list element (else a root value, only checked) */
    int32_t depth;       /* brackets open */
    int32_t in_string, escape;
    int32_t list_depth;  /* depth inside the record list while it is open, else 0 */
    int32_t list_kind;   /* LIST_* of the current document's list */
    int32_t first_list;  /* LIST_* of the first document's */
    int32_t documents;   /* documents begun */
    int32_t root;        /* R_* while in the root object */
    int32_t reading_key; /* inside a root key's string */
    int32_t key_len;     /* the key's bytes so far, counted to WALK_KEY + 1 */
    int32_t key_kind;    /* KEY_* of the root key whose value comes next */
    int32_t lists;       /* Records or Events keys seen */
    int32_t after_comma; /* in the list, after a comma, before the next element */
    int32_t closed;      /* the root closed */
    int32_t error;       /* WALK_* */
    char key[WALK_KEY];
    char open[WALK_MAX_DEPTH];
} Walk;

/* -- strict JSON, one value: what any reader of RFC 8259 JSON reads alike --------------------- */

static const char *v_value(const char *p, const char *e, int depth);

static const char *v_blanks(const char *p, const char *e) {
    while (p < e && is_blank(*p)) p++;
    return p;
}

/* one UTF-8 sequence of two to four bytes at p (RFC 3629: no overlong form, no surrogate, at
   most U+10FFFF) */
static const char *v_utf8(const char *p, const char *e) {
    const unsigned char *u = (const unsigned char *)p;
    int64_t left = e - p;
    unsigned char lo = 0x80, hi = 0xBF;
    int n;
    if (u[0] >= 0xC2 && u[0] <= 0xDF) n = 1;
    else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
        n = 2;
        if (u[0] == 0xE0) lo = 0xA0;
        if (u[0] == 0xED) hi = 0x9F;
    } else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
        n = 3;
        if (u[0] == 0xF0) lo = 0x90;
        if (u[0] == 0xF4) hi = 0x8F;
    } else return NULL;
    if (left <= n) return NULL;
    if (u[1] < lo || u[1] > hi) return NULL;
    for (int i = 2; i <= n; i++)
        if (u[i] < 0x80 || u[i] > 0xBF) return NULL;
    return p + n + 1;
}

static int v_hex4(const char *p, const char *e, unsigned *code) {
    if (e - p < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char x = p[i];
        v <<= 4;
        if (x >= '0' && x <= '9') v |= (unsigned)(x - '0');
        else if (x >= 'a' && x <= 'f') v |= (unsigned)(x - 'a' + 10);
        else if (x >= 'A' && x <= 'F') v |= (unsigned)(x - 'A' + 10);
        else return 0;
    }
    *code = v;
    return 1;
}

static const char *v_string(const char *p, const char *e) {
    p++; /* the opening quote */
    while (p < e) {
        unsigned char u = (unsigned char)*p;
        if (u == '"') return p + 1;
        if (u < 0x20) return NULL;
        if (u >= 0x80) {
            if (!(p = v_utf8(p, e))) return NULL;
            continue;
        }
        if (u != '\\') { p++; continue; }
        if (p + 1 >= e) return NULL;
        char x = p[1];
        if (x != 'u') {
            if (!strchr("\"\\/bfnrt", x) || x == 0) return NULL;
            p += 2;
            continue;
        }
        unsigned code;
        if (!v_hex4(p + 2, e, &code)) return NULL;
        p += 6;
        if (code >= 0xDC00 && code <= 0xDFFF) return NULL; /* a low surrogate alone */
        if (code >= 0xD800 && code <= 0xDBFF) {            /* a high one: its low one next */
            unsigned low;
            if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || !v_hex4(p + 2, e, &low) ||
                low < 0xDC00 || low > 0xDFFF)
                return NULL;
            p += 6;
        }
    }
    return NULL;
}

static const char *v_number(const char *p, const char *e) {
    if (p < e && *p == '-') p++;
    if (p >= e) return NULL;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') { while (p < e && *p >= '0' && *p <= '9') p++; }
    else return NULL;
    if (p < e && *p == '.') {
        const char *f = ++p;
        while (p < e && *p >= '0' && *p <= '9') p++;
        if (p == f) return NULL;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        const char *x = p;
        while (p < e && *p >= '0' && *p <= '9') p++;
        if (p == x) return NULL;
    }
    return p;
}

static const char *v_word(const char *p, const char *e, const char *word, int64_t len) {
    return (e - p >= len && memcmp(p, word, (size_t)len) == 0) ? p + len : NULL;
}

static const char *v_value(const char *p, const char *e, int depth) {
    if (p >= e || depth > WALK_MAX_DEPTH) return NULL;
    switch (*p) {
    case '{':
        p = v_blanks(p + 1, e);
        if (p < e && *p == '}') return p + 1;
        for (;;) {
            if (p >= e || *p != '"' || !(p = v_string(p, e))) return NULL;
            p = v_blanks(p, e);
            if (p >= e || *p != ':') return NULL;
            if (!(p = v_value(v_blanks(p + 1, e), e, depth + 1))) return NULL;
            p = v_blanks(p, e);
            if (p < e && *p == ',') { p = v_blanks(p + 1, e); continue; }
            return (p < e && *p == '}') ? p + 1 : NULL;
        }
    case '[':
        p = v_blanks(p + 1, e);
        if (p < e && *p == ']') return p + 1;
        for (;;) {
            if (!(p = v_value(p, e, depth + 1))) return NULL;
            p = v_blanks(p, e);
            if (p < e && *p == ',') { p = v_blanks(p + 1, e); continue; }
            return (p < e && *p == ']') ? p + 1 : NULL;
        }
    case '"': return v_string(p, e);
    case 't': return v_word(p, e, "true", 4);
    case 'f': return v_word(p, e, "false", 5);
    case 'n': return v_word(p, e, "null", 4);
    default: return v_number(p, e);
    }
}

/* [s, e) is exactly one strict JSON value, blanks around it allowed */
static int valid_value(const char *s, const char *e, int depth) {
    const char *p = v_value(v_blanks(s, e), e, depth);
    return p != NULL && v_blanks(p, e) == e;
}

/* -- the walk ------------------------------------------------------------------------------- */

static int root_key(const char *k, int len) {
    if (len == 7 && !memcmp(k, "Records", 7)) return KEY_RECORDS;
    if (len == 6 && !memcmp(k, "Events", 6)) return KEY_EVENTS;
    /* the keys stg_raw_records reads a root object by: with one, it is something else */
    if ((len == 9 && !memcmp(k, "eventTime", 9)) || (len == 11 && !memcmp(k, "detail-type", 11)) ||
        (len == 6 && !memcmp(k, "detail", 6)) || (len == 15 && !memcmp(k, "digestStartTime", 15)) ||
        (len >= 10 && !memcmp(k, "sts-audit:", 10)))
        return KEY_RECORD_FIELD;
    return KEY_OTHER;
}

static inline int64_t fail(Walk *w, int error, int64_t found) {
    w->error = error;
    return found;
}

/* The value being read ends: an element is written to starts/ends, a root value only checked. */
typedef struct {
    int64_t *starts, *ends, *numbers, *kinds;
} Found;

static inline int end_segment(Walk *w, const char *buf, const Found *out, int64_t *found) {
    if (!valid_value(buf + w->seg_start, buf + w->seg_end, w->depth)) return 0;
    if (w->seg_emit) {
        out->starts[*found] = w->seg_start;
        out->ends[*found] = w->seg_end;
        out->numbers[*found] = w->doc_elements++;
        out->kinds[*found] = w->list_kind;
        (*found)++;
        w->elements++;
    }
    w->seg_start = -1;
    return 1;
}

/* Walk buf[from, n) (buf[0, from) is the value carried from the previous block, already
   walked; the Walk's offsets are into buf). Each element completed is written as
   [starts[i], ends[i]), with its index in its document (numbers[i]) and its list's LIST_*
   (kinds[i]); an element needs a separator in the new bytes and one byte of its own
   before it, so there are at most (n - from) / 2 + 2 of them. Returns how many. Where the
   document stops being one that can be read by its list, w->error is set (the elements before
   are returned) and the walk ends there. w->seg_start is the value still open (-1: none), for
   the caller to carry. */
int64_t sts_walk(Walk *w, const char *buf, int64_t n, int64_t from, int64_t *starts,
                 int64_t *ends, int64_t *numbers, int64_t *kinds) {
    int64_t found = 0;
    const Found out = {starts, ends, numbers, kinds};
    if (w->error) return 0;
    for (int64_t i = from; i < n; i++) {
        char ch = buf[i];
        unsigned char u = (unsigned char)ch;
        if (w->in_string) {
            if (w->reading_key) {
                if (w->escape || ch == '\\' || u >= 0x80) return fail(w, WALK_ESCAPED_KEY, found);
                if (u < 0x20) return fail(w, WALK_NOT_JSON, found);
                if (ch != '"') {
                    if (w->key_len < WALK_KEY) w->key[w->key_len] = ch;
                    if (w->key_len <= WALK_KEY) w->key_len++;
                }
            }
            if (w->escape) w->escape = 0;
            else if (ch == '\\') w->escape = 1;
            else if (ch == '"') {
                w->in_string = 0;
                if (w->reading_key) {
                    w->reading_key = 0;
                    w->key_kind = w->key_len <= WALK_KEY ? root_key(w->key, w->key_len) : KEY_OTHER;
                    w->root = R_COLON;
                }
            }
            if (w->seg_start >= 0) w->seg_end = i + 1;
            goto next;
        }
        if (is_blank(ch)) goto next;
        if (w->closed) {
            if (ch != '{' && ch != '[') return fail(w, WALK_AFTER, found);
            if (w->list_kind == LIST_NONE) return fail(w, WALK_MORE, found);
            /* the next document: walked as the first was */
            w->closed = 0;
            w->list_kind = LIST_NONE;
            w->lists = 0;
            w->doc_elements = 0;
        }
        if (w->depth == 0 && ch != '[' && ch != '{') return fail(w, WALK_NOT_LIST, found);

        if (w->list_depth && w->depth == w->list_depth) {
            /* in the record list, between its elements */
            if (ch == ',' || ch == ']') {
                if (w->seg_start < 0) {
                    if (ch == ',' || w->after_comma) return fail(w, WALK_NOT_JSON, found);
                } else if (!end_segment(w, buf, &out, &found)) {
                    return fail(w, WALK_NOT_JSON, found);
                }
                w->after_comma = ch == ',';
                if (ch == ']') {
                    w->list_depth = 0;
                    if (--w->depth == 0) w->closed = 1;
                    else w->root = R_COMMA_OR_END;
                }
                goto next;
            }
            if (w->seg_start < 0) {
                w->seg_start = i;
                w->seg_emit = 1;
                w->after_comma = 0;
            }
        } else if (w->depth == 1 && w->open[0] == '{') {
            /* the root object's grammar */
            switch (w->root) {
            case R_KEY_OR_END:
            case R_KEY:
                if (ch == '}' && w->root == R_KEY_OR_END) break;
                if (ch != '"') return fail(w, WALK_NOT_JSON, found);
                w->reading_key = 1;
                w->key_len = 0;
                w->in_string = 1;
                goto next;
            case R_COLON:
                if (ch != ':') return fail(w, WALK_NOT_JSON, found);
                w->root = R_VALUE;
                goto next;
            case R_VALUE:
                if (ch == ',' || ch == '}' || ch == ':' || ch == ']')
                    return fail(w, WALK_NOT_JSON, found);
                if (w->key_kind == KEY_RECORD_FIELD) return fail(w, WALK_RECORD_KEY, found);
                if (w->key_kind == KEY_RECORDS || w->key_kind == KEY_EVENTS) {
                    if (w->lists++) return fail(w, WALK_TWO_LISTS, found);
                    if (ch != '[') return fail(w, WALK_NOT_LIST, found);
                    w->list_kind = w->key_kind == KEY_RECORDS ? LIST_RECORDS : LIST_EVENTS;
                    if (w->documents == 1) w->first_list = w->list_kind;
                    w->list_depth = 2;
                    w->after_comma = 0;
                    w->root = R_IN_VALUE;
                    break; /* the bracket opens below */
                }
                w->seg_start = i; /* another root value: checked, not written */
                w->seg_emit = 0;
                w->root = R_IN_VALUE;
                break;
            case R_IN_VALUE:
                if (ch == ',' || ch == '}') {
                    if (w->seg_start >= 0 && !end_segment(w, buf, &out, &found))
                        return fail(w, WALK_NOT_JSON, found);
                    w->root = ch == ',' ? R_KEY : R_COMMA_OR_END;
                    if (ch == ',') goto next;
                }
                break;
            case R_COMMA_OR_END:
                if (ch == ',') { w->root = R_KEY; goto next; }
                if (ch != '}') return fail(w, WALK_NOT_JSON, found);
                break;
            default:
                break;
            }
        }

        switch (ch) {
        case '"':
            w->in_string = 1;
            break;
        case '{':
        case '[':
            if (w->depth >= WALK_MAX_DEPTH) return fail(w, WALK_TOO_DEEP, found);
            w->open[w->depth++] = ch;
            if (w->depth == 1) {
                w->documents++;
                if (ch == '[') {
                    w->list_kind = LIST_ARRAY;
                    if (w->documents == 1) w->first_list = LIST_ARRAY;
                    w->list_depth = 1;
                } else {
                    w->root = R_KEY_OR_END;
                }
            }
            break;
        case '}':
        case ']':
            if (w->depth == 0 || w->open[w->depth - 1] != (ch == '}' ? '{' : '['))
                return fail(w, WALK_NOT_JSON, found);
            if (--w->depth == 0) {
                w->closed = 1;
                /* one of several documents, without a record list */
                if (w->documents > 1 && w->list_kind == LIST_NONE) return fail(w, WALK_MORE, found);
            }
            break;
        default:
            break;
        }
        if (w->seg_start >= 0) w->seg_end = i + 1;
    next:
        if (w->limit && w->seg_start >= 0 && i + 1 - w->seg_start > w->limit)
            return fail(w, WALK_TOO_LARGE, found);
    }
    return found;
}

/* The Walk is opaque to the caller: its size, a fresh one, what the caller reads of it, and its
   offsets moved when the caller drops the bytes before the carried value. */
int64_t sts_walk_size(void) { return (int64_t)sizeof(Walk); }

void sts_walk_init(Walk *w, int64_t limit) {
    memset(w, 0, sizeof *w);
    w->seg_start = -1;
    w->limit = limit;
}

enum { INFO_SEG_START = 0, INFO_ERROR = 1, INFO_LIST = 2, INFO_ELEMENTS = 3, INFO_CLOSED = 4 };

int64_t sts_walk_info(const Walk *w, int what) {
    switch (what) {
    case INFO_SEG_START: return w->seg_start;
    case INFO_ERROR: return w->error;
    case INFO_LIST: return w->first_list;
    case INFO_ELEMENTS: return w->elements;
    case INFO_CLOSED: return w->closed;
    default: return -1;
    }
}

void sts_walk_rebase(Walk *w, int64_t shift) {
    if (w->seg_start >= 0) {
        w->seg_start -= shift;
        w->seg_end -= shift;
    }
}
