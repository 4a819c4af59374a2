/*
** Tests for the JSON module: accept/reject cases in the style of
** JSONTestSuite (y_ must parse, n_ must fail, i_ are implementation-
** defined and we fail them unless noted), the RFC 8259 §13 examples,
** UTF-8 and surrogate edge cases, the depth, size and count limits,
** integer and double conversion, duplicate names, dot-path lookup, the
** writer, round trips, and allocation failure at every point.
*/
#include <locale.h>
#include <math.h>

/* A parse that must succeed; returns the document (caller frees). */
static SsoJsonDoc *jsonOk(const char *z){
  SsoJsonDoc *pDoc = 0;
  SsoJsonErr err;
  int rc = ssoJsonParse(z, strlen(z), 0, &pDoc, &err);
  if( rc ){
    fprintf(stderr, "  parse of %s failed: %s at %zu\n", z, err.zMsg,
            err.iOfs);
  }
  CHECK_INT( rc, SSOPROXY_OK );
  return pDoc;
}

/* Compact serialisation of a value into zOut (test helper). */
static int jsonOut(const SsoJson *p, char *zOut, size_t nOut){
  SsoBuf b;
  int rc;
  ssoBufInit(&b, 0);
  rc = ssoJsonToBuf(p, &b);
  snprintf(zOut, nOut, "%s", ssoBufStr(&b));
  ssoBufFree(&b);
  return rc;
}

#define JS(s) s, sizeof(s)-1
typedef struct JsonCase JsonCase;
struct JsonCase {
  const char *z;        /* Input */
  size_t n;             /* Its length (inputs may hold NUL bytes) */
  int rc;               /* Expected result */
  long iOfs;            /* Expected error offset; -1 = not checked */
};

static const JsonCase aJsonCase[] = {
  /* ---- y_: must parse ---- */
  { JS("[[]   ]"), 0, -1 },
  { JS("[]"), 0, -1 },
  { JS("[\"\"]"), 0, -1 },
  { JS("[false]"), 0, -1 },
  { JS("[null, 1, \"1\", {}]"), 0, -1 },
  { JS("[1\n]"), 0, -1 },
  { JS(" [1]"), 0, -1 },
  { JS("[1,null,null,null,2]"), 0, -1 },
  { JS("[2] "), 0, -1 },
  { JS("[123e65]"), 0, -1 },
  { JS("[0e+1]"), 0, -1 },
  { JS("[0e1]"), 0, -1 },
  { JS("[ 4]"), 0, -1 },
  { JS("[-0.0000000000000000000000000000000000000001]"), 0, -1 },
  { JS("[20e1]"), 0, -1 },
  { JS("[-0]"), 0, -1 },
  { JS("[-123]"), 0, -1 },
  { JS("[1E22]"), 0, -1 },
  { JS("[1E-2]"), 0, -1 },
  { JS("[1E+2]"), 0, -1 },
  { JS("[123.456e78]"), 0, -1 },
  { JS("[123.456789]"), 0, -1 },
  { JS("{\"asd\":\"sdf\", \"dfg\":\"fgh\"}"), 0, -1 },
  { JS("{\"a\":\"b\",\"a\":\"c\"}"), 0, -1 },     /* dup ok without NODUP */
  { JS("{}"), 0, -1 },
  { JS("{\"\":0}"), 0, -1 },
  { JS("{\"foo\\u0000bar\": 42}"), 0, -1 },
  { JS("{ \"min\": -1.0e+28, \"max\": 1.0e+28 }"), 0, -1 },
  { JS("{\"a\":[]}"), 0, -1 },
  { JS("{\n\"a\": \"b\"\n}"), 0, -1 },
  { JS("[\"\\u0060\\u012a\\u12AB\"]"), 0, -1 },
  { JS("[\"\\uD801\\udc37\"]"), 0, -1 },
  { JS("[\"\\ud83d\\ude39\\ud83d\\udc8d\"]"), 0, -1 },
  { JS("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]"), 0, -1 },
  { JS("[\"\\\\u0000\"]"), 0, -1 },
  { JS("[\"a/*b*/c/*d//e\"]"), 0, -1 },
  { JS("[\"\\u0012\"]"), 0, -1 },
  { JS("[\"\\uFFFF\"]"), 0, -1 },
  { JS("[\"\\uDBFF\\uDFFF\"]"), 0, -1 },
  { JS("[\"\xf4\x8f\xbf\xbf\"]"), 0, -1 },          /* U+10FFFF */
  { JS("[\"\xef\xbf\xbf\"]"), 0, -1 },              /* U+FFFF */
  { JS("[\"\xf0\x9b\xbf\xbf\"]"), 0, -1 },          /* U+1BFFF */
  { JS("[\"\xe2\x80\xa8\"]"), 0, -1 },              /* U+2028 */
  { JS("[\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\"]"),
    0, -1 },                          /* U+0080 U+07FF U+0800 U+D7FF U+E000 */
  { JS("[\"\xf0\x90\x80\x80\"]"), 0, -1 },          /* U+10000 */
  { JS("[\"\xe2\x82\xac\xf0\x9d\x84\x9e\"]"), 0, -1 },
  { JS("[\"a\x7f" "a\"]"), 0, -1 },                 /* DEL is not control */
  { JS("false"), 0, -1 },
  { JS("42"), 0, -1 },
  { JS("-0.1"), 0, -1 },
  { JS("null"), 0, -1 },
  { JS("\"asd\""), 0, -1 },
  { JS("true"), 0, -1 },
  { JS("\"\""), 0, -1 },
  { JS("[\"a\"]\n"), 0, -1 },
  { JS(" \t\r\n[] \t\r\n"), 0, -1 },
  /* i_ cases we accept: the number is valid; conversion reports range */
  { JS("[-1e+9999]"), 0, -1 },
  { JS("[123e-10000000]"), 0, -1 },

  /* ---- n_: must fail, with the offset of the problem ---- */
  { JS(""), SSOPROXY_PARSE, 0 },
  { JS(" "), SSOPROXY_PARSE, 1 },
  { JS("[1 true]"), SSOPROXY_PARSE, 3 },
  { JS("[a\xe5]"), SSOPROXY_PARSE, 1 },
  { JS("[\"\": 1]"), SSOPROXY_PARSE, 3 },
  { JS("[\"\"],"), SSOPROXY_PARSE, 4 },
  { JS("[,1]"), SSOPROXY_PARSE, 1 },
  { JS("[1,,2]"), SSOPROXY_PARSE, 3 },
  { JS("[\"x\",,]"), SSOPROXY_PARSE, 5 },
  { JS("[\"x\"]]"), SSOPROXY_PARSE, 5 },
  { JS("[\"\",]"), SSOPROXY_PARSE, 3 },             /* trailing comma */
  { JS("[\"x\""), SSOPROXY_PARSE, 4 },
  { JS("[x"), SSOPROXY_PARSE, 1 },
  { JS("[3[4]]"), SSOPROXY_PARSE, 2 },
  { JS("[\xff]"), SSOPROXY_PARSE, 1 },
  { JS("[1:2]"), SSOPROXY_PARSE, 2 },
  { JS("[,]"), SSOPROXY_PARSE, 1 },
  { JS("[-]"), SSOPROXY_PARSE, 2 },
  { JS("[   , \"\"]"), SSOPROXY_PARSE, 4 },
  { JS("[\"a\",\n4\n,1,"), SSOPROXY_PARSE, 11 },
  { JS("[1,]"), SSOPROXY_PARSE, 2 },
  { JS("[1,,]"), SSOPROXY_PARSE, 3 },
  { JS("[\"\x0b" "a\"\\f]"), SSOPROXY_PARSE, 2 },
  { JS("[*]"), SSOPROXY_PARSE, 1 },
  { JS("[1,"), SSOPROXY_PARSE, 3 },
  { JS("[{}"), SSOPROXY_PARSE, 3 },
  { JS("[fals]"), SSOPROXY_PARSE, 1 },
  { JS("[nul]"), SSOPROXY_PARSE, 1 },
  { JS("[tru]"), SSOPROXY_PARSE, 1 },
  { JS("[truth]"), SSOPROXY_PARSE, 1 },
  { JS("[true1]"), SSOPROXY_PARSE, 5 },
  { JS("123\0"), SSOPROXY_PARSE, 3 },
  { JS("[++1234]"), SSOPROXY_PARSE, 1 },
  { JS("[+1]"), SSOPROXY_PARSE, 1 },
  { JS("[+Inf]"), SSOPROXY_PARSE, 1 },
  { JS("[-01]"), SSOPROXY_PARSE, 1 },
  { JS("[-1.0.]"), SSOPROXY_PARSE, 5 },
  { JS("[-2.]"), SSOPROXY_PARSE, 4 },
  { JS("[-NaN]"), SSOPROXY_PARSE, 2 },
  { JS("[.-1]"), SSOPROXY_PARSE, 1 },
  { JS("[.2e-3]"), SSOPROXY_PARSE, 1 },
  { JS("[0.1.2]"), SSOPROXY_PARSE, 4 },
  { JS("[0.3e+]"), SSOPROXY_PARSE, 6 },
  { JS("[0.3e]"), SSOPROXY_PARSE, 5 },
  { JS("[0.e1]"), SSOPROXY_PARSE, 3 },
  { JS("[0E+]"), SSOPROXY_PARSE, 4 },
  { JS("[1 000.0]"), SSOPROXY_PARSE, 3 },
  { JS("[1eE2]"), SSOPROXY_PARSE, 3 },
  { JS("[Inf]"), SSOPROXY_PARSE, 1 },
  { JS("[NaN]"), SSOPROXY_PARSE, 1 },
  { JS("[\xef\xbc\x91]"), SSOPROXY_PARSE, 1 },      /* fullwidth digit */
  { JS("[1+2]"), SSOPROXY_PARSE, 2 },
  { JS("[0x1]"), SSOPROXY_PARSE, 2 },
  { JS("[Infinity]"), SSOPROXY_PARSE, 1 },
  { JS("[-Infinity]"), SSOPROXY_PARSE, 2 },
  { JS("[012]"), SSOPROXY_PARSE, 1 },
  { JS("[- 1]"), SSOPROXY_PARSE, 2 },
  { JS("[-012]"), SSOPROXY_PARSE, 1 },
  { JS("[-.123]"), SSOPROXY_PARSE, 2 },
  { JS("[1.]"), SSOPROXY_PARSE, 3 },
  { JS("[.123]"), SSOPROXY_PARSE, 1 },
  { JS("[1.2a-3]"), SSOPROXY_PARSE, 4 },
  { JS("{\"x\", null}"), SSOPROXY_PARSE, 4 },
  { JS("{\"x\"::\"b\"}"), SSOPROXY_PARSE, 5 },
  { JS("{\"a\":\"a\" 123}"), SSOPROXY_PARSE, 9 },
  { JS("{key: 'value'}"), SSOPROXY_PARSE, 1 },
  { JS("{\"a\" b}"), SSOPROXY_PARSE, 5 },
  { JS("{:\"b\"}"), SSOPROXY_PARSE, 1 },
  { JS("{\"a\" \"b\"}"), SSOPROXY_PARSE, 5 },
  { JS("{\"a\":"), SSOPROXY_PARSE, 5 },
  { JS("{\"a\""), SSOPROXY_PARSE, 4 },
  { JS("{1:1}"), SSOPROXY_PARSE, 1 },
  { JS("{null:null,null:null}"), SSOPROXY_PARSE, 1 },
  { JS("{'a':0}"), SSOPROXY_PARSE, 1 },
  { JS("{\"id\":0,}"), SSOPROXY_PARSE, 7 },          /* trailing comma */
  { JS("{\"a\":\"b\"}/**/"), SSOPROXY_PARSE, 9 },
  { JS("{\"a\":\"b\"}//"), SSOPROXY_PARSE, 9 },
  { JS("{\"a\":/*comment*/\"b\"}"), SSOPROXY_PARSE, 5 },
  { JS("[1/*c*/]"), SSOPROXY_PARSE, 2 },
  { JS("{\"a\":\"b\",,\"c\":\"d\"}"), SSOPROXY_PARSE, 9 },
  { JS("{a: \"b\"}"), SSOPROXY_PARSE, 1 },
  { JS("{\"a\":\"a"), SSOPROXY_PARSE, 7 },
  { JS("{\"a\": true} \"x\""), SSOPROXY_PARSE, 12 },
  { JS("[\"\\uD800\\\"]"), SSOPROXY_PARSE, 11 },      /* unterminated */
  { JS("[\"\\uD800\\u\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\uD800\\u1\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\xc3\xa9]"), SSOPROXY_PARSE, 1 },
  { JS("[\"\\\0\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\x00\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\\\\\\"]"), SSOPROXY_PARSE, 7 },          /* unterminated */
  { JS("[\"\\\t\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\\xf0\x9f\x8c\x80\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\\"]"), SSOPROXY_PARSE, 5 },
  { JS("[\"\\u00A\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\uD834\\uDd\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\u\xe5\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\a\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\uqqqq\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\\u0020\"asd\"]"), SSOPROXY_PARSE, 1 },
  { JS("[\\n]"), SSOPROXY_PARSE, 1 },
  { JS("\""), SSOPROXY_PARSE, 1 },
  { JS("['single quote']"), SSOPROXY_PARSE, 1 },
  { JS("abc"), SSOPROXY_PARSE, 0 },
  { JS("[\"\\"), SSOPROXY_PARSE, 3 },
  { JS("[\"a\0a\"]"), SSOPROXY_PARSE, 3 },
  { JS("[\"new\nline\"]"), SSOPROXY_PARSE, 5 },
  { JS("[\"\t\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\x1f\"]"), SSOPROXY_PARSE, 2 },
  { JS("\"\\UA66D\""), SSOPROXY_PARSE, 1 },
  { JS("\"\"x"), SSOPROXY_PARSE, 2 },
  { JS("\xef\xbb\xbf"), SSOPROXY_PARSE, 0 },          /* BOM, no data */
  { JS("\xef\xbb\xbf{}"), SSOPROXY_PARSE, 0 },        /* BOM */
  { JS("\xef\xbb{}"), SSOPROXY_PARSE, 0 },
  { JS("a\xc3\xa5"), SSOPROXY_PARSE, 0 },
  { JS("<.>"), SSOPROXY_PARSE, 0 },
  { JS("[1]x"), SSOPROXY_PARSE, 3 },
  { JS("[True]"), SSOPROXY_PARSE, 1 },
  { JS("1]"), SSOPROXY_PARSE, 1 },
  { JS("{\"x\": true,"), SSOPROXY_PARSE, 11 },
  { JS("[][]"), SSOPROXY_PARSE, 2 },
  { JS("]"), SSOPROXY_PARSE, 0 },
  { JS("\xe5"), SSOPROXY_PARSE, 0 },
  { JS("[\0]"), SSOPROXY_PARSE, 1 },
  { JS("2@"), SSOPROXY_PARSE, 1 },
  { JS("{}}"), SSOPROXY_PARSE, 2 },
  { JS("{\"\":"), SSOPROXY_PARSE, 4 },
  { JS("['"), SSOPROXY_PARSE, 1 },
  { JS("{"), SSOPROXY_PARSE, 1 },
  { JS("*"), SSOPROXY_PARSE, 0 },
  { JS("{\"a\":\"b\"}#{}"), SSOPROXY_PARSE, 9 },
  { JS("[1"), SSOPROXY_PARSE, 2 },
  { JS("[\f]"), SSOPROXY_PARSE, 1 },                  /* not whitespace */
  { JS("[\v]"), SSOPROXY_PARSE, 1 },
  { JS("[\xe2\x81\xa0]"), SSOPROXY_PARSE, 1 },        /* U+2060 */
  { JS("[\xc2\xa0 1]"), SSOPROXY_PARSE, 1 },          /* NBSP */
  { JS("\0[\0\"\0a\0\"\0]"), SSOPROXY_PARSE, 0 },     /* UTF-16BE */

  /* ---- i_ cases and UTF-8 edges: all rejected ---- */
  { JS("[\"\xff\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\xe9\"]"), SSOPROXY_PARSE, 2 },            /* ISO-8859-1 */
  { JS("[\"\x81\"]"), SSOPROXY_PARSE, 2 },            /* continuation */
  { JS("[\"\xc0\xaf\"]"), SSOPROXY_PARSE, 2 },        /* overlong '/' */
  { JS("[\"\xc1\xbf\"]"), SSOPROXY_PARSE, 2 },        /* overlong */
  { JS("[\"\xe0\x80\xaf\"]"), SSOPROXY_PARSE, 2 },    /* overlong */
  { JS("[\"\xe0\x9f\xbf\"]"), SSOPROXY_PARSE, 2 },    /* overlong U+07FF */
  { JS("[\"\xf0\x80\x80\xaf\"]"), SSOPROXY_PARSE, 2 },/* overlong */
  { JS("[\"\xf0\x8f\xbf\xbf\"]"), SSOPROXY_PARSE, 2 },/* overlong U+FFFF */
  { JS("[\"\xfc\x83\xbf\xbf\xbf\xbf\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\xe6\x97\xa5\xd1\x88\xfa\"]"), SSOPROXY_PARSE, 7 },
  { JS("[\"\xe0\xff\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\xe2\x82\"]"), SSOPROXY_PARSE, 2 },        /* truncated */
  { JS("[\"\xf0\x9f\x98\"]"), SSOPROXY_PARSE, 2 },    /* truncated */
  { JS("[\"\xf4\x90\x80\x80\"]"), SSOPROXY_PARSE, 2 },/* U+110000 */
  { JS("[\"\xf4\xbf\xbf\xbf\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\xf5\x80\x80\x80\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\xed\xa0\x80\"]"), SSOPROXY_PARSE, 2 },    /* U+D800 as UTF-8 */
  { JS("[\"\xed\xbf\xbf\"]"), SSOPROXY_PARSE, 2 },    /* U+DFFF as UTF-8 */
  { JS("[\"\xed\xa0\xbd\xed\xb8\x80\"]"), SSOPROXY_PARSE, 2 },  /* CESU-8 */
  { JS("[\"\\uDADA\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\uD888\\u1234\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\uD800\\n\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\uDd1ea\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\uD800\\uD800\\n\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\uDd1e\\uD834\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"\\uDFAA\"]"), SSOPROXY_PARSE, 2 },
  { JS("[\"a\\uD834x\\uDD1E\"]"), SSOPROXY_PARSE, 3 },
  { JS("{\"\xc0\x80\":1}"), SSOPROXY_PARSE, 2 },      /* bad UTF-8 in key */
};

static void test_json_cases(void){
  size_t k;
  int nParsed = 0, nRejected = 0;
  for(k=0; k<SSO_ARRAYSIZE(aJsonCase); k++){
    const JsonCase *pCase = &aJsonCase[k];
    SsoJsonDoc *pDoc = (SsoJsonDoc*)1;
    SsoJsonErr err;
    int rc = ssoJsonParse(pCase->z, pCase->n, 0, &pDoc, &err);
    if( rc!=pCase->rc
     || (pCase->iOfs>=0 && (long)err.iOfs!=pCase->iOfs) ){
      tst.nCheckFail++;
      fprintf(stderr, "  FAIL case %zu: rc=%d at %zu (%s), expected rc=%d "
              "at %ld\n", k, rc, err.iOfs, err.zMsg, pCase->rc,
              pCase->iOfs);
    }
    CHECK_INT( err.rc, rc );
    if( rc==SSOPROXY_OK ){
      CHECK( pDoc!=0 && ssoJsonRoot(pDoc)!=0 );
      CHECK_STR( err.zMsg, "" );
      nParsed++;
    }else{
      CHECK( pDoc==0 );
      CHECK( err.zMsg[0]!=0 );
      nRejected++;
    }
    ssoJsonFree(pDoc);
  }
  CHECK( nParsed>=55 && nRejected>=150 );
}

/* Each error explains itself in a few English words. */
static void test_json_messages(void){
  static const struct { const char *z; const char *zMsg; } aMsg[] = {
    { "", "empty input" },
    { "[\"a\x01\"]", "control character in string" },
    { "[\"\xc0\xaf\"]", "invalid UTF-8 in string" },
    { "\xef\xbb\xbf[]", "byte order mark not allowed" },
    { "[\"\\q\"]", "invalid escape in string" },
    { "[\"\\udc00\"]", "unpaired surrogate in \\u escape" },
    { "[\"\\u12\"]", "invalid \\u escape" },
    { "[01]", "leading zero in number" },
    { "[1,]", "trailing comma" },
    { "{\"a\":1,}", "trailing comma" },
    { "[1]//x", "comments are not allowed" },
    { "[1] 2", "trailing characters after the value" },
    { "[NaN]", "unexpected character 'N'" },
    { "[\x01]", "unexpected byte 0x01" },
    { "[1", "unexpected end of input" },
    { "\"abc", "unterminated string" },
    { "{\"a\" 1}", "expected ':' after key" },
    { "{1:2}", "expected a string key" },
    { "{\"a\":1 \"b\":2}", "expected ',' or '}'" },
    { "[1 2]", "expected ',' or ']'" },
    { "[tx]", "invalid literal" },
    { "[1.]", "digit expected after '.'" },
    { "[1e+]", "digit expected in exponent" },
  };
  size_t k;
  for(k=0; k<SSO_ARRAYSIZE(aMsg); k++){
    SsoJsonDoc *pDoc;
    SsoJsonErr err;
    CHECK_INT( ssoJsonParse(aMsg[k].z, strlen(aMsg[k].z), 0, &pDoc, &err),
               SSOPROXY_PARSE );
    CHECK_STR( err.zMsg, aMsg[k].zMsg );
  }
  /* The error struct is optional. */
  {
    SsoJsonDoc *pDoc;
    CHECK_INT( ssoJsonParse("[", 1, 0, &pDoc, 0), SSOPROXY_PARSE );
    CHECK( pDoc==0 );
  }
}

/* RFC 8259 §13: the two example texts and the three small ones. */
static void test_json_rfc8259_examples(void){
  static const char zImage[] =
    "{\n"
    "  \"Image\": {\n"
    "    \"Width\":  800,\n"
    "    \"Height\": 600,\n"
    "    \"Title\":  \"View from 15th Floor\",\n"
    "    \"Thumbnail\": {\n"
    "      \"Url\":    \"http://www.example.com/image/481989943\",\n"
    "      \"Height\": 125,\n"
    "      \"Width\":  100\n"
    "    },\n"
    "    \"Animated\" : false,\n"
    "    \"IDs\": [116, 943, 234, 38793]\n"
    "  }\n"
    "}\n";
  static const char zPlaces[] =
    "[\n"
    "  {\n"
    "     \"precision\": \"zip\",\n"
    "     \"Latitude\":  37.7668,\n"
    "     \"Longitude\": -122.3959,\n"
    "     \"Address\":   \"\",\n"
    "     \"City\":      \"SAN FRANCISCO\",\n"
    "     \"State\":     \"CA\",\n"
    "     \"Zip\":       \"94107\",\n"
    "     \"Country\":   \"US\"\n"
    "  },\n"
    "  {\n"
    "     \"precision\": \"zip\",\n"
    "     \"Latitude\":  37.371991,\n"
    "     \"Longitude\": -122.026020,\n"
    "     \"Address\":   \"\",\n"
    "     \"City\":      \"SUNNYVALE\",\n"
    "     \"State\":     \"CA\",\n"
    "     \"Zip\":       \"94085\",\n"
    "     \"Country\":   \"US\"\n"
    "  }\n"
    "]\n";
  SsoJsonDoc *pDoc;
  const SsoJson *pImg, *p;
  long long i = 0;
  double r = 0;
  int b = 1;
  char z[600];

  pDoc = jsonOk(zImage);
  pImg = ssoJsonGet(ssoJsonRoot(pDoc), "Image");
  CHECK_INT( ssoJsonType(pImg), SSO_JSON_OBJECT );
  CHECK_INT( ssoJsonCount(pImg), 6 );
  CHECK_INT( ssoJsonInt64(ssoJsonGet(pImg, "Width"), &i), SSOPROXY_OK );
  CHECK_INT( i, 800 );
  CHECK_STR( ssoJsonCStr(ssoJsonGet(pImg, "Title")), "View from 15th Floor" );
  CHECK_STR( ssoJsonCStr(ssoJsonGetPath(ssoJsonRoot(pDoc),
                                        "Image.Thumbnail.Url")),
             "http://www.example.com/image/481989943" );
  CHECK_INT( ssoJsonBool(ssoJsonGet(pImg, "Animated"), &b), SSOPROXY_OK );
  CHECK_INT( b, 0 );
  p = ssoJsonGet(pImg, "IDs");
  CHECK_INT( ssoJsonCount(p), 4 );
  CHECK_INT( ssoJsonInt64(ssoJsonAt(p, 3), &i), SSOPROXY_OK );
  CHECK_INT( i, 38793 );
  CHECK( ssoJsonAt(p, 4)==0 );
  /* Members come back in document order, with their offsets. */
  CHECK_STR( ssoJsonKey(ssoJsonAt(pImg, 0), 0), "Width" );
  CHECK_STR( ssoJsonKey(ssoJsonAt(pImg, 5), 0), "IDs" );
  CHECK_INT( ssoJsonOffset(ssoJsonAt(pImg, 0)),
             strstr(zImage, "\"Width\"") - zImage );
  CHECK_INT( jsonOut(ssoJsonRoot(pDoc), z, sizeof(z)), SSOPROXY_OK );
  CHECK_STR( z, "{\"Image\":{\"Width\":800,\"Height\":600,\"Title\":"
    "\"View from 15th Floor\",\"Thumbnail\":{\"Url\":"
    "\"http://www.example.com/image/481989943\",\"Height\":125,"
    "\"Width\":100},\"Animated\":false,\"IDs\":[116,943,234,38793]}}" );
  ssoJsonFree(pDoc);

  pDoc = jsonOk(zPlaces);
  p = ssoJsonRoot(pDoc);
  CHECK_INT( ssoJsonCount(p), 2 );
  CHECK_INT( ssoJsonDouble(ssoJsonGetPath(p, "1.Longitude"), &r),
             SSOPROXY_OK );
  CHECK( r==-122.02602 );
  CHECK_STR( ssoJsonNumText(ssoJsonGetPath(p, "1.Longitude"), 0),
             "-122.026020" );
  CHECK_STR( ssoJsonCStr(ssoJsonGetPath(p, "0.City")), "SAN FRANCISCO" );
  CHECK_STR( ssoJsonCStr(ssoJsonGetPath(p, "1.Address")), "" );
  ssoJsonFree(pDoc);

  pDoc = jsonOk("\"Hello world!\"");
  CHECK_STR( ssoJsonCStr(ssoJsonRoot(pDoc)), "Hello world!" );
  ssoJsonFree(pDoc);
  pDoc = jsonOk("42");
  CHECK_INT( ssoJsonInt64(ssoJsonRoot(pDoc), &i), SSOPROXY_OK );
  CHECK_INT( i, 42 );
  ssoJsonFree(pDoc);
  pDoc = jsonOk("true");
  CHECK_INT( ssoJsonType(ssoJsonRoot(pDoc)), SSO_JSON_TRUE );
  ssoJsonFree(pDoc);
}

/* Escapes and surrogate pairs decode to the right UTF-8 bytes. */
static void test_json_strings(void){
  static const struct { const char *zIn; const char *zOut; size_t n; }
  aStr[] = {
    { "\"\\u00e9\"", "\xc3\xa9", 2 },
    { "\"\\u20AC\"", "\xe2\x82\xac", 3 },
    { "\"\\uD834\\uDD1E\"", "\xf0\x9d\x84\x9e", 4 },
    { "\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4 },
    { "\"\\uD800\\uDC00\"", "\xf0\x90\x80\x80", 4 },
    { "\"\\u007f\\u0080\\u07ff\\u0800\\uffff\"",
      "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf", 11 },
    { "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8 },
    { "\"a\\u0000b\"", "a\0b", 3 },
    { "\"\xe2\x82\xac\xf0\x9d\x84\x9e\"", "\xe2\x82\xac\xf0\x9d\x84\x9e", 7 },
  };
  size_t k, n;
  for(k=0; k<SSO_ARRAYSIZE(aStr); k++){
    SsoJsonDoc *pDoc = jsonOk(aStr[k].zIn);
    const char *z = ssoJsonStr(ssoJsonRoot(pDoc), &n);
    CHECK( z!=0 );
    CHECK_INT( n, aStr[k].n );
    if( z ){
      CHECK_MEM( z, aStr[k].zOut, aStr[k].n );
      CHECK_INT( z[n], 0 );
    }
    ssoJsonFree(pDoc);
  }
}

/* U+0000 is kept and flagged: the C-string getters refuse it. */
static void test_json_embedded_nul(void){
  static const char zIn[] =
    "{\"s\":\"a\\u0000b\",\"k\\u0000x\":1,\"k\":2,\"t\":\"ok\"}";
  SsoJsonDoc *pDoc = jsonOk(zIn);
  const SsoJson *pRoot = ssoJsonRoot(pDoc), *pS, *pK;
  size_t n = 0;
  pS = ssoJsonGet(pRoot, "s");
  CHECK( ssoJsonCStr(pS)==0 );
  CHECK( ssoJsonStr(pS, 0)==0 );
  CHECK( ssoJsonStr(pS, &n)!=0 );
  CHECK_INT( n, 3 );
  CHECK_STR( ssoJsonCStr(ssoJsonGet(pRoot, "t")), "ok" );
  pK = ssoJsonAt(pRoot, 1);
  CHECK( ssoJsonKey(pK, 0)==0 );
  CHECK( ssoJsonKey(pK, &n)!=0 );
  CHECK_INT( n, 3 );
  /* "k" is not "k\0x": lookup compares lengths. */
  CHECK_INT( ssoJsonOffset(ssoJsonGet(pRoot, "k")),
             strstr(zIn, "\"k\":") - zIn );
  CHECK( ssoJsonGetN(pRoot, "k\0x", 3)==pK );
  CHECK( ssoJsonKey(pRoot, &n)==0 );       /* the root is not a member */
  ssoJsonFree(pDoc);
}

static void test_json_getters(void){
  SsoJsonDoc *pDoc = jsonOk("{\"n\":null,\"t\":true,\"f\":false,"
                            "\"num\":1.50E+3,\"s\":\"x\",\"a\":[1,[2]],"
                            "\"o\":{\"Key\":1}}");
  const SsoJson *pRoot = ssoJsonRoot(pDoc);
  size_t k, n = 0;
  int b = -1;
  long long i = 0;
  double r = 0;
  static const int aType[] = {
    SSO_JSON_NULL, SSO_JSON_TRUE, SSO_JSON_FALSE, SSO_JSON_NUMBER,
    SSO_JSON_STRING, SSO_JSON_ARRAY, SSO_JSON_OBJECT
  };
  static const char *azName[] = {
    "null", "true", "false", "number", "string", "array", "object"
  };
  CHECK_INT( ssoJsonCount(pRoot), 7 );
  for(k=0; k<7; k++){
    CHECK_INT( ssoJsonType(ssoJsonAt(pRoot, k)), aType[k] );
    CHECK_STR( ssoJsonTypeName(aType[k]), azName[k] );
  }
  CHECK_INT( ssoJsonType(0), SSO_JSON_NONE );
  CHECK_STR( ssoJsonTypeName(SSO_JSON_NONE), "missing" );
  CHECK_STR( ssoJsonTypeName(99), "unknown" );
  CHECK_INT( ssoJsonBool(ssoJsonGet(pRoot, "t"), &b), SSOPROXY_OK );
  CHECK_INT( b, 1 );
  CHECK_INT( ssoJsonBool(ssoJsonGet(pRoot, "n"), &b), SSOPROXY_PARSE );
  CHECK_INT( ssoJsonBool(ssoJsonGet(pRoot, "nope"), &b), SSOPROXY_NOTFOUND );
  CHECK_STR( ssoJsonNumText(ssoJsonGet(pRoot, "num"), &n), "1.50E+3" );
  CHECK_INT( n, 7 );
  CHECK_INT( ssoJsonDouble(ssoJsonGet(pRoot, "num"), &r), SSOPROXY_OK );
  CHECK( r==1500.0 );
  CHECK_INT( ssoJsonInt64(ssoJsonGet(pRoot, "num"), &i), SSOPROXY_PARSE );
  CHECK_INT( ssoJsonInt64(ssoJsonGet(pRoot, "s"), &i), SSOPROXY_PARSE );
  CHECK_INT( ssoJsonInt64(0, &i), SSOPROXY_NOTFOUND );
  CHECK_INT( ssoJsonDouble(ssoJsonGet(pRoot, "s"), &r), SSOPROXY_PARSE );
  CHECK_INT( ssoJsonDouble(0, &r), SSOPROXY_NOTFOUND );
  CHECK( ssoJsonNumText(ssoJsonGet(pRoot, "s"), 0)==0 );
  CHECK( ssoJsonCStr(ssoJsonGet(pRoot, "num"))==0 );
  CHECK( ssoJsonCStr(0)==0 );
  /* Lookup is case-sensitive and only on objects. */
  CHECK( ssoJsonGet(ssoJsonGet(pRoot, "o"), "Key")!=0 );
  CHECK( ssoJsonGet(ssoJsonGet(pRoot, "o"), "key")==0 );
  CHECK( ssoJsonGet(ssoJsonGet(pRoot, "a"), "0")==0 );
  CHECK( ssoJsonGet(pRoot, 0)==0 );
  CHECK( ssoJsonGet(0, "a")==0 );
  CHECK_INT( ssoJsonCount(ssoJsonGet(pRoot, "s")), 0 );
  CHECK( ssoJsonAt(ssoJsonGet(pRoot, "s"), 0)==0 );
  CHECK_INT( ssoJsonCount(ssoJsonGet(pRoot, "a")), 2 );
  CHECK( ssoJsonRoot(0)==0 );
  ssoJsonFree(0);
  ssoJsonFree(pDoc);
}

/* Nesting: exactly SSO_JSON_MAX_DEPTH is fine, one more is refused, and a
** huge depth costs no C stack (the parser does not recurse). */
static void test_json_depth(void){
  static char z[2*(SSO_JSON_MAX_DEPTH+1) + 1];
  SsoJsonDoc *pDoc;
  SsoJsonErr err;
  char *zBig;
  size_t nBig = 1000000;
  int d;
  for(d=0; d<SSO_JSON_MAX_DEPTH; d++){
    z[d] = '[';
    z[2*SSO_JSON_MAX_DEPTH-1-d] = ']';
  }
  CHECK_INT( ssoJsonParse(z, 2*SSO_JSON_MAX_DEPTH, 0, &pDoc, &err),
             SSOPROXY_OK );
  ssoJsonFree(pDoc);
  for(d=0; d<=SSO_JSON_MAX_DEPTH; d++){
    z[d] = '[';
    z[2*SSO_JSON_MAX_DEPTH+1-d] = ']';
  }
  CHECK_INT( ssoJsonParse(z, 2*SSO_JSON_MAX_DEPTH+2, 0, &pDoc, &err),
             SSOPROXY_TOOBIG );
  CHECK_INT( err.iOfs, SSO_JSON_MAX_DEPTH );
  CHECK_STR( err.zMsg, "nesting too deep" );
  /* Objects count too: {"a":{"a":...{"a":1}...}} */
  {
    SsoBuf b;
    ssoBufInit(&b, 0);
    for(d=0; d<SSO_JSON_MAX_DEPTH; d++) ssoBufAppendStr(&b, "{\"a\":");
    ssoBufAppendStr(&b, "1");
    for(d=0; d<SSO_JSON_MAX_DEPTH; d++) ssoBufAppendChar(&b, '}');
    CHECK_INT( ssoJsonParse(b.z, b.n, 0, &pDoc, &err), SSOPROXY_OK );
    ssoJsonFree(pDoc);
    ssoBufTruncate(&b, 0);
    for(d=0; d<SSO_JSON_MAX_DEPTH; d++) ssoBufAppendStr(&b, "{\"a\":");
    ssoBufAppendStr(&b, "[1]");
    for(d=0; d<SSO_JSON_MAX_DEPTH; d++) ssoBufAppendChar(&b, '}');
    CHECK_INT( ssoJsonParse(b.z, b.n, 0, &pDoc, &err), SSOPROXY_TOOBIG );
    CHECK_INT( err.iOfs, 5*SSO_JSON_MAX_DEPTH );
    ssoBufFree(&b);
  }
  zBig = ssoMalloc(nBig);
  CHECK( zBig!=0 );
  if( zBig ){
    memset(zBig, '[', nBig);
    CHECK_INT( ssoJsonParse(zBig, nBig, 0, &pDoc, &err), SSOPROXY_TOOBIG );
    ssoFree(zBig);
  }
}

/* Input size and value count limits, at and past the boundary. */
static void test_json_limits(void){
  SsoJsonDoc *pDoc;
  SsoJsonErr err;
  size_t k, n;
  char *z = ssoMalloc(SSO_JSON_MAX_INPUT + 1);
  CHECK( z!=0 );
  if( z==0 ) return;
  memset(z, ' ', SSO_JSON_MAX_INPUT + 1);
  z[0] = '0';
  CHECK_INT( ssoJsonParse(z, SSO_JSON_MAX_INPUT, 0, &pDoc, &err),
             SSOPROXY_OK );
  ssoJsonFree(pDoc);
  CHECK_INT( ssoJsonParse(z, SSO_JSON_MAX_INPUT+1, 0, &pDoc, &err),
             SSOPROXY_TOOBIG );
  CHECK_STR( err.zMsg, "document too large" );
  CHECK( pDoc==0 );
  /* An array holding SSO_JSON_MAX_NODES-1 values: the limit exactly. */
  n = 0;
  z[n++] = '[';
  for(k=0; k<SSO_JSON_MAX_NODES-1; k++){ z[n++] = '0'; z[n++] = ','; }
  z[n-1] = ']';
  CHECK_INT( ssoJsonParse(z, n, 0, &pDoc, &err), SSOPROXY_OK );
  CHECK_INT( ssoJsonCount(ssoJsonRoot(pDoc)), SSO_JSON_MAX_NODES-1 );
  ssoJsonFree(pDoc);
  z[n-1] = ',';
  z[n++] = '0';
  z[n++] = ']';
  CHECK_INT( ssoJsonParse(z, n, 0, &pDoc, &err), SSOPROXY_TOOBIG );
  CHECK_STR( err.zMsg, "too many values" );
  CHECK_INT( err.iOfs, n-2 );
  ssoFree(z);
}

static void test_json_int64(void){
  static const struct { const char *z; int rc; long long i; } aInt[] = {
    { "0", SSOPROXY_OK, 0 },
    { "-0", SSOPROXY_OK, 0 },
    { "1700000000", SSOPROXY_OK, 1700000000LL },
    { "9223372036854775807", SSOPROXY_OK, LLONG_MAX },
    { "9223372036854775808", SSOPROXY_TOOBIG, 0 },
    { "-9223372036854775808", SSOPROXY_OK, LLONG_MIN },
    { "-9223372036854775809", SSOPROXY_TOOBIG, 0 },
    { "18446744073709551616", SSOPROXY_TOOBIG, 0 },
    { "99999999999999999999999999999", SSOPROXY_TOOBIG, 0 },
    { "1.0", SSOPROXY_PARSE, 0 },
    { "1e3", SSOPROXY_PARSE, 0 },
    { "-1E0", SSOPROXY_PARSE, 0 },
    { "\"1\"", SSOPROXY_PARSE, 0 },
    { "true", SSOPROXY_PARSE, 0 },
  };
  size_t k;
  for(k=0; k<SSO_ARRAYSIZE(aInt); k++){
    SsoJsonDoc *pDoc = jsonOk(aInt[k].z);
    long long i = 12345;
    int rc = ssoJsonInt64(ssoJsonRoot(pDoc), &i);
    if( rc!=aInt[k].rc ) fprintf(stderr, "  int64 of %s\n", aInt[k].z);
    CHECK_INT( rc, aInt[k].rc );
    CHECK_INT( i, rc ? 12345 : aInt[k].i );   /* untouched on failure */
    ssoJsonFree(pDoc);
  }
}

static void test_json_double(void){
  static const struct { const char *z; int rc; double r; } aDbl[] = {
    { "0.1", SSOPROXY_OK, 0.1 },
    { "1e-2", SSOPROXY_OK, 0.01 },
    { "-2.5E+3", SSOPROXY_OK, -2500.0 },
    { "123456789012345678901234567890", SSOPROXY_OK, 1.2345678901234568e29 },
    { "0.000000000000000000000000000000000001", SSOPROXY_OK, 1e-36 },
    { "1.7976931348623157e308", SSOPROXY_OK, DBL_MAX },
    { "4.9406564584124654e-324", SSOPROXY_OK, 4.9406564584124654e-324 },
    { "2.2250738585072014e-308", SSOPROXY_OK, 2.2250738585072014e-308 },
    { "123e-10000000", SSOPROXY_OK, 0.0 },
    { "0e99999999999999999999999", SSOPROXY_OK, 0.0 },
    { "1e400", SSOPROXY_TOOBIG, 0 },
    { "-1e+9999", SSOPROXY_TOOBIG, 0 },
    { "1.8e308", SSOPROXY_TOOBIG, 0 },
    { "9007199254740993", SSOPROXY_OK, 9007199254740992.0 },  /* tie: even */
  };
  size_t k;
  double r;
  SsoJsonDoc *pDoc;
  SsoBuf b;
  for(k=0; k<SSO_ARRAYSIZE(aDbl); k++){
    int rc;
    pDoc = jsonOk(aDbl[k].z);
    r = -1;
    rc = ssoJsonDouble(ssoJsonRoot(pDoc), &r);
    CHECK_INT( rc, aDbl[k].rc );
    if( rc==SSOPROXY_OK && r!=aDbl[k].r ){
      tst.nCheckFail++;
      fprintf(stderr, "  FAIL double %s: %.17g\n", aDbl[k].z, r);
    }
    ssoJsonFree(pDoc);
  }
  pDoc = jsonOk("-0");
  CHECK_INT( ssoJsonDouble(ssoJsonRoot(pDoc), &r), SSOPROXY_OK );
  CHECK( r==0.0 && signbit(r) );
  ssoJsonFree(pDoc);
  /* 2^53+1 plus a 1 far beyond the 800 digits kept: just above the tie,
  ** so it must round up. Truncating the digits would round down. */
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "9007199254740993.");
  for(k=0; k<1000; k++) ssoBufAppendChar(&b, '0');
  ssoBufAppendStr(&b, "1");
  CHECK_INT( ssoJsonParse(b.z, b.n, 0, &pDoc, 0), SSOPROXY_OK );
  CHECK_INT( ssoJsonDouble(ssoJsonRoot(pDoc), &r), SSOPROXY_OK );
  CHECK( r==9007199254740994.0 );
  ssoJsonFree(pDoc);
  /* Many leading zeros and a long exponent. */
  ssoBufTruncate(&b, 0);
  ssoBufAppendStr(&b, "0.");
  for(k=0; k<5000; k++) ssoBufAppendChar(&b, '0');
  ssoBufAppendStr(&b, "15e5001");
  CHECK_INT( ssoJsonParse(b.z, b.n, 0, &pDoc, 0), SSOPROXY_OK );
  CHECK_INT( ssoJsonDouble(ssoJsonRoot(pDoc), &r), SSOPROXY_OK );
  CHECK( r==1.5 );
  ssoJsonFree(pDoc);
  ssoBufFree(&b);
}

/* Repeated names: refused with SSO_JSON_NODUP (naming the first repeat),
** kept otherwise (the last one is what ssoJsonGet() returns). */
static void test_json_duplicates(void){
  static const struct { const char *z; long iOfs; const char *zMsg; } aDup[] = {
    { "{\"a\":1,\"a\":2}", 7, "duplicate key \"a\"" },
    { "{\"sub\":\"x\",\"iss\":1,\"sub\":\"y\"}", 19, "duplicate key \"sub\"" },
    /* Escapes are decoded before comparing: \u0061 is "a". */
    { "{\"a\":1,\"\\u0061\":2}", 7, "duplicate key \"a\"" },
    { "[{\"x\":{\"k\":1,\"k\":1}}]", 13, "duplicate key \"k\"" },
    { "{\"\":1,\"\":2}", 6, "duplicate key \"\"" },
    { "{\"a\\u0000\":1,\"a\\u0000\":2}", 13, "duplicate key \"a?\"" },
  };
  static const char *azNoDup[] = {
    "{\"a\":1,\"A\":2}",
    "{\"a\":1,\"a\\u0000\":2,\"a\\u0000b\":3,\"a\\u0000c\":4}",
    "{\"a\":{\"b\":1},\"b\":{\"a\":1}}",
    "[{\"a\":1},{\"a\":1}]",
  };
  size_t k;
  for(k=0; k<SSO_ARRAYSIZE(aDup); k++){
    SsoJsonDoc *pDoc;
    SsoJsonErr err;
    const char *z = aDup[k].z;
    CHECK_INT( ssoJsonParse(z, strlen(z), SSO_JSON_NODUP, &pDoc, &err),
               SSOPROXY_PARSE );
    CHECK_INT( err.iOfs, aDup[k].iOfs );
    CHECK_STR( err.zMsg, aDup[k].zMsg );
    CHECK_INT( ssoJsonParse(z, strlen(z), 0, &pDoc, &err), SSOPROXY_OK );
    ssoJsonFree(pDoc);
  }
  for(k=0; k<SSO_ARRAYSIZE(azNoDup); k++){
    SsoJsonDoc *pDoc;
    const char *z = azNoDup[k];
    CHECK_INT( ssoJsonParse(z, strlen(z), SSO_JSON_NODUP, &pDoc, 0),
               SSOPROXY_OK );
    ssoJsonFree(pDoc);
  }
  {
    SsoJsonDoc *pDoc = jsonOk("{\"a\":1,\"b\":2,\"a\":3}");
    long long i = 0;
    CHECK_INT( ssoJsonInt64(ssoJsonGet(ssoJsonRoot(pDoc), "a"), &i),
               SSOPROXY_OK );
    CHECK_INT( i, 3 );
    CHECK_INT( ssoJsonCount(ssoJsonRoot(pDoc)), 3 );
    ssoJsonFree(pDoc);
  }
  /* A long message is cut short and made printable. */
  {
    SsoBuf b;
    SsoJsonDoc *pDoc;
    SsoJsonErr err;
    ssoBufInit(&b, 0);
    ssoBufAppendStr(&b, "{\"");
    for(k=0; k<100; k++) ssoBufAppendChar(&b, 'x');
    ssoBufAppendStr(&b, "\\n\":1,\"");
    for(k=0; k<100; k++) ssoBufAppendChar(&b, 'x');
    ssoBufAppendStr(&b, "\\n\":2}");
    CHECK_INT( ssoJsonParse(b.z, b.n, SSO_JSON_NODUP, &pDoc, &err),
               SSOPROXY_PARSE );
    CHECK( strncmp(err.zMsg, "duplicate key \"xxxx", 19)==0 );
    CHECK( strcmp(err.zMsg + strlen(err.zMsg) - 4, "...\"")==0 );
    ssoBufFree(&b);
  }
}

/* Big objects: the sorted check finds the earliest repeat, and 100k
** distinct names cost O(n log n), not O(n^2). */
static void test_json_duplicates_big(void){
  SsoBuf b;
  SsoJsonDoc *pDoc;
  SsoJsonErr err;
  int k, nKey = 100000;
  long long t0;
  size_t iFirst = 0;
  ssoBufInit(&b, 0);
  ssoBufAppendChar(&b, '{');
  for(k=0; k<50; k++){
    if( k==30 ) iFirst = b.n + 1;
    ssoBufPrintf(&b, "%s\"k%d\":%d", k ? "," : "", k==30 ? 7 : k==40 ? 3 : k, k);
  }
  ssoBufAppendChar(&b, '}');
  CHECK_INT( ssoJsonParse(b.z, b.n, SSO_JSON_NODUP, &pDoc, &err),
             SSOPROXY_PARSE );
  CHECK_INT( err.iOfs, iFirst );
  CHECK_STR( err.zMsg, "duplicate key \"k7\"" );
  ssoBufTruncate(&b, 0);
  ssoBufAppendChar(&b, '{');
  for(k=0; k<nKey; k++) ssoBufPrintf(&b, "%s\"key%d\":%d", k ? "," : "", k, k);
  ssoBufAppendChar(&b, '}');
  t0 = ssoOsMonoMs();
  CHECK_INT( ssoJsonParse(b.z, b.n, SSO_JSON_NODUP, &pDoc, &err),
             SSOPROXY_OK );
  CHECK_INT( ssoJsonCount(ssoJsonRoot(pDoc)), nKey );
  ssoJsonFree(pDoc);
  /* Same names plus one repeat of the very first at the end. */
  ssoBufTruncate(&b, b.n-1);
  ssoBufAppendStr(&b, ",\"key0\":1}");
  CHECK_INT( ssoJsonParse(b.z, b.n, SSO_JSON_NODUP, &pDoc, &err),
             SSOPROXY_PARSE );
  CHECK_STR( err.zMsg, "duplicate key \"key0\"" );
  CHECK_INT( err.iOfs, b.n - 9 );
  /* Quadratic would be ~10^10 comparisons; allow sanitizer slowness. */
  CHECK( ssoOsMonoMs() - t0 < 3000 );
  ssoBufFree(&b);
}

/* Dot paths, as LiteLLM's GENERIC_USER_ROLE_ATTRIBUTE uses them. */
static void test_json_path(void){
  SsoJsonDoc *pDoc = jsonOk(
    "{\"realm_access\":{\"roles\":[\"admin\",\"user\"]},"
    "\"resource_access\":{\"my-client\":{\"roles\":[\"x\"]}},"
    "\"https://example.com/roles\":[\"r\"],"
    "\"a\":{\"b.c\":1,\"b\":{\"c\":2}},"
    "\"groups\":[\"g0\",\"g1\"],"
    "\"role\":\"proxy_admin\"}");
  const SsoJson *pRoot = ssoJsonRoot(pDoc), *p;
  long long i = 0;
  p = ssoJsonGetPath(pRoot, "realm_access.roles");
  CHECK_INT( ssoJsonType(p), SSO_JSON_ARRAY );
  CHECK_INT( ssoJsonCount(p), 2 );
  CHECK_STR( ssoJsonCStr(ssoJsonAt(p, 0)), "admin" );
  CHECK_STR( ssoJsonCStr(ssoJsonGetPath(pRoot, "role")), "proxy_admin" );
  CHECK_STR( ssoJsonCStr(ssoJsonGetPath(pRoot,
             "resource_access.my-client.roles.0")), "x" );
  CHECK_STR( ssoJsonCStr(ssoJsonGetPath(pRoot, "groups.1")), "g1" );
  CHECK( ssoJsonGetPath(pRoot, "groups.2")==0 );
  CHECK( ssoJsonGetPath(pRoot, "groups.x")==0 );
  CHECK( ssoJsonGetPath(pRoot, "groups.-1")==0 );
  CHECK( ssoJsonGetPath(pRoot, "groups.")==0 );
  CHECK_INT( ssoJsonCount(ssoJsonGetPath(pRoot, "https://example.com/roles")),
             1 );
  /* A member named by the whole rest of the path wins over splitting. */
  CHECK_INT( ssoJsonInt64(ssoJsonGetPath(pRoot, "a.b.c"), &i), SSOPROXY_OK );
  CHECK_INT( i, 1 );
  CHECK( ssoJsonGetPath(pRoot, "realm_access.missing")==0 );
  CHECK( ssoJsonGetPath(pRoot, "Realm_access.roles")==0 );
  CHECK( ssoJsonGetPath(pRoot, "role.x")==0 );
  CHECK( ssoJsonGetPath(pRoot, "realm_access.")==0 );
  CHECK( ssoJsonGetPath(pRoot, ".role")==0 );
  CHECK( ssoJsonGetPath(pRoot, "")==pRoot );
  CHECK( ssoJsonGetPath(pRoot, 0)==0 );
  CHECK( ssoJsonGetPath(0, "a")==0 );
  ssoJsonFree(pDoc);
}

/* The writer's output for the API error envelope and every value type. */
static void test_json_writer(void){
  SsoBuf b;
  SsoJsonWriter w;
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKey(&w, "error");
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyString(&w, "message", "Authentication Error, \"bad\" key\n");
  ssoJsonWriteKeyString(&w, "type", "auth_error");
  ssoJsonWriteKeyString(&w, "param", 0);
  ssoJsonWriteKeyString(&w, "code", "401");
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteEndObject(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_OK );
  CHECK_STR( ssoBufStr(&b), "{\"error\":{\"message\":\"Authentication Error,"
             " \\\"bad\\\" key\\n\",\"type\":\"auth_error\",\"param\":null,"
             "\"code\":\"401\"}}" );

  ssoBufTruncate(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginArray(&w);
  ssoJsonWriteNull(&w);
  ssoJsonWriteBool(&w, 1);
  ssoJsonWriteBool(&w, 0);
  ssoJsonWriteInt64(&w, LLONG_MIN);
  ssoJsonWriteInt64(&w, LLONG_MAX);
  ssoJsonWriteStringN(&w, "a\0b\x7f\xc3\xa9", 6);
  ssoJsonWriteBeginArray(&w);
  ssoJsonWriteEndArray(&w);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteRaw(&w, "{\"pre\":[1,2]}", 13);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKeyInt64(&w, "n", -5);
  ssoJsonWriteKeyBool(&w, "b", 1);
  ssoJsonWriteKeyN(&w, "k\xc3\xa9y", 4);
  ssoJsonWriteBeginArray(&w);
  ssoJsonWriteString(&w, "");
  ssoJsonWriteEndArray(&w);
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteEndArray(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_OK );
  CHECK_STR( ssoBufStr(&b), "[null,true,false,-9223372036854775808,"
             "9223372036854775807,\"a\\u0000b\\u007f\xc3\xa9\",[],{},"
             "{\"pre\":[1,2]},{\"n\":-5,\"b\":true,\"k\xc3\xa9y\":[\"\"]}]" );

  /* A second value in the same buffer, with its own writer. */
  ssoBufAppendChar(&b, '\n');
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteInt64(&w, 7);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_OK );
  CHECK( b.n>2 && strcmp(b.z + b.n - 2, "\n7")==0 );
  ssoBufFree(&b);
}

static void test_json_writer_double(void){
  static const struct { double r; const char *z; } aDbl[] = {
    { 0.1, "0.1" },
    { 1.5, "1.5" },
    { 3.0, "3" },
    { -0.0, "-0" },
    { 100.0, "100" },
    { 1e21, "1e+21" },
    { 1e16, "10000000000000000" },
    { 1e17, "1e+17" },
    { 1.5e16, "15000000000000000" },
    { 12345678912345678.0, "12345678912345678" },
    { 1e-7, "1e-07" },
    { 123456789.125, "123456789.125" },
    { 0.30000000000000004, "0.30000000000000004" },
    { 1.0/3.0, "0.3333333333333333" },
    { DBL_MAX, "1.7976931348623157e+308" },
    { 5e-324, "5e-324" },
    { -2.5e-300, "-2.5e-300" },
  };
  SsoBuf b;
  SsoJsonWriter w;
  size_t k;
  ssoBufInit(&b, 0);
  for(k=0; k<SSO_ARRAYSIZE(aDbl); k++){
    SsoJsonDoc *pDoc;
    double r = 0;
    ssoBufTruncate(&b, 0);
    ssoJsonWriteInit(&w, &b);
    ssoJsonWriteDouble(&w, aDbl[k].r);
    CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_OK );
    CHECK_STR( ssoBufStr(&b), aDbl[k].z );
    /* And it reads back as the same double. */
    CHECK_INT( ssoJsonParse(b.z, b.n, 0, &pDoc, 0), SSOPROXY_OK );
    CHECK_INT( ssoJsonDouble(ssoJsonRoot(pDoc), &r), SSOPROXY_OK );
    CHECK( r==aDbl[k].r );
    ssoJsonFree(pDoc);
  }
  /* NaN and infinities have no JSON form (RFC 8259 §6). */
  ssoBufTruncate(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginArray(&w);
  ssoJsonWriteDouble(&w, NAN);
  ssoJsonWriteEndArray(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_PARSE );
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteDouble(&w, -INFINITY);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_PARSE );
  ssoBufFree(&b);
}

/* A decimal-comma locale must change neither reading nor writing. The
** test machine may lack such a locale; then this checks the C locale. */
static void test_json_locale(void){
  static const char *azLoc[] = {
    "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE", "fr_FR"
  };
  char *zOld = setlocale(LC_NUMERIC, 0);
  char zSave[64];
  size_t k;
  SsoBuf b;
  SsoJsonWriter w;
  SsoJsonDoc *pDoc;
  double r = 0;
  snprintf(zSave, sizeof(zSave), "%s", zOld ? zOld : "C");
  for(k=0; k<SSO_ARRAYSIZE(azLoc); k++){
    if( setlocale(LC_NUMERIC, azLoc[k]) ) break;
  }
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteDouble(&w, 1234.5);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_OK );
  CHECK_STR( ssoBufStr(&b), "1234.5" );
  ssoBufFree(&b);
  pDoc = jsonOk("[12.75, 1.5e1]");
  CHECK_INT( ssoJsonDouble(ssoJsonAt(ssoJsonRoot(pDoc), 0), &r), SSOPROXY_OK );
  CHECK( r==12.75 );
  CHECK_INT( ssoJsonDouble(ssoJsonAt(ssoJsonRoot(pDoc), 1), &r), SSOPROXY_OK );
  CHECK( r==15.0 );
  ssoJsonFree(pDoc);
  setlocale(LC_NUMERIC, zSave);
}

/* Out-of-order calls are refused and the error sticks. */
static void test_json_writer_misuse(void){
  SsoBuf b;
  SsoJsonWriter w;
  int d;
  ssoBufInit(&b, 0);

  ssoJsonWriteInit(&w, &b);                       /* nothing written */
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );

  ssoJsonWriteInit(&w, &b);                       /* value without key */
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteInt64(&w, 1);
  ssoJsonWriteEndObject(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );

  ssoJsonWriteInit(&w, &b);                       /* key in an array */
  ssoJsonWriteBeginArray(&w);
  ssoJsonWriteKey(&w, "a");
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );

  ssoJsonWriteInit(&w, &b);                       /* two keys in a row */
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKey(&w, "a");
  ssoJsonWriteKey(&w, "b");
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );

  ssoJsonWriteInit(&w, &b);                       /* key without value */
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKey(&w, "a");
  ssoJsonWriteEndObject(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );

  ssoJsonWriteInit(&w, &b);                       /* mismatched end */
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteEndArray(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );

  ssoJsonWriteInit(&w, &b);                       /* end with none open */
  ssoJsonWriteEndArray(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );

  ssoJsonWriteInit(&w, &b);                       /* unclosed */
  ssoJsonWriteBeginArray(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );

  ssoJsonWriteInit(&w, &b);                       /* two top-level values */
  ssoJsonWriteNull(&w);
  ssoJsonWriteNull(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );

  ssoJsonWriteInit(&w, &b);                       /* too deep */
  for(d=0; d<SSO_JSON_MAX_DEPTH; d++) ssoJsonWriteBeginArray(&w);
  CHECK_INT( w.rc, SSOPROXY_OK );
  ssoJsonWriteBeginArray(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );

  ssoJsonWriteInit(&w, &b);                       /* invalid UTF-8 value */
  ssoJsonWriteString(&w, "\xc0\xaf");
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_PARSE );

  ssoJsonWriteInit(&w, &b);                       /* invalid UTF-8 key */
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKey(&w, "\xed\xa0\x80");
  ssoJsonWriteInt64(&w, 1);
  ssoJsonWriteEndObject(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_PARSE );

  ssoJsonWriteInit(&w, &b);                       /* NULL tree */
  ssoJsonWriteValue(&w, 0);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );
  ssoBufFree(&b);

  /* The buffer's own limit comes back from Finish. */
  ssoBufInit(&b, 16);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteString(&w, "0123456789abcdefghijkl");
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_TOOBIG );
  ssoBufFree(&b);

  CHECK( ssoJsonUtf8Valid("", 0) );
  CHECK( ssoJsonUtf8Valid("\xf4\x8f\xbf\xbf", 4) );
  CHECK( !ssoJsonUtf8Valid("\xf4\x8f\xbf", 3) );
  CHECK( !ssoJsonUtf8Valid("\xf8\x88\x80\x80\x80", 5) );
}

/* parse -> write -> parse -> write gives the same bytes; numbers keep
** their text, strings their decoded bytes. */
static void test_json_roundtrip(void){
  static const struct { const char *zIn; const char *zOut; } aRt[] = {
    { " { \"a\" : [1, 2.50, -0, 1E5 ] , \"b\":\"\\u00e9\\ud834\\udd1e\\/\\\"\" } ",
      "{\"a\":[1,2.50,-0,1E5],\"b\":\"\xc3\xa9\xf0\x9d\x84\x9e/\\\"\"}" },
    { "[\"\\u0000\\u001f\\u007f\\b\\f\\n\\r\\t\"]",
      "[\"\\u0000\\u001f\\u007f\\b\\f\\n\\r\\t\"]" },
    { "{\"k\\u0000\":{\"\":[[],{}]}}", "{\"k\\u0000\":{\"\":[[],{}]}}" },
    { "\"\xe2\x80\xa8\"", "\"\xe2\x80\xa8\"" },
    { "[true,false,null]", "[true,false,null]" },
    { "{\"a\":1,\"a\":2}", "{\"a\":1,\"a\":2}" },
    { "123.456e-789", "123.456e-789" },
  };
  size_t k;
  for(k=0; k<SSO_ARRAYSIZE(aRt); k++){
    char z1[256], z2[256];
    SsoJsonDoc *pDoc = jsonOk(aRt[k].zIn), *pDoc2;
    CHECK_INT( jsonOut(ssoJsonRoot(pDoc), z1, sizeof(z1)), SSOPROXY_OK );
    CHECK_STR( z1, aRt[k].zOut );
    pDoc2 = jsonOk(z1);
    CHECK_INT( jsonOut(ssoJsonRoot(pDoc2), z2, sizeof(z2)), SSOPROXY_OK );
    CHECK_STR( z2, z1 );
    ssoJsonFree(pDoc2);
    ssoJsonFree(pDoc);
  }
}

/*
** Allocation failure at every point of parse + lookup + write of a
** document big enough to use every allocation the module makes: the
** parse stack leaves the C stack, the arena takes several chunks, and an
** object is big enough for the sorted duplicate check.
*/
typedef struct JsonOomArg JsonOomArg;
struct JsonOomArg {
  SsoBuf doc;           /* The input */
  char *zExpect;        /* Its expected compact form */
};
static int jsonOomBody(void *pArg){
  JsonOomArg *p = pArg;
  SsoJsonDoc *pDoc = 0;
  SsoJsonErr err;
  SsoBuf b;
  int rc;
  const SsoJson *pV;
  long long i = 0;
  rc = ssoJsonParse(p->doc.z, p->doc.n, SSO_JSON_NODUP, &pDoc, &err);
  if( rc ){
    if( err.rc!=rc || strcmp(err.zMsg, "out of memory")!=0 ) return -1;
    return rc;
  }
  pV = ssoJsonGetPath(ssoJsonRoot(pDoc), "claims.realm_access.roles.1");
  if( strcmp(ssoJsonCStr(pV), "user")!=0 ) rc = -1;
  if( ssoJsonInt64(ssoJsonGetPath(ssoJsonRoot(pDoc), "claims.exp"), &i)
   || i!=1700000000 ){
    rc = -1;
  }
  ssoBufInit(&b, 0);
  if( rc==SSOPROXY_OK ) rc = ssoJsonToBuf(ssoJsonRoot(pDoc), &b);
  if( rc==SSOPROXY_OK && strcmp(b.z, p->zExpect)!=0 ) rc = -1;
  ssoBufFree(&b);
  ssoJsonFree(pDoc);
  return rc;
}
static int jsonOomCheck(void *pArg, int rc, int bFaulted){
  SSO_UNUSED(pArg);
  return bFaulted ? rc==SSOPROXY_NOMEM : rc==SSOPROXY_OK;
}
static void test_json_oom(void){
  JsonOomArg a;
  SsoJsonDoc *pDoc;
  int k, nRun;
  ssoBufInit(&a.doc, 0);
  ssoBufAppendStr(&a.doc, "{\"claims\":{\"sub\":\"u1\",\"exp\":1700000000,"
    "\"realm_access\":{\"roles\":[\"admin\",\"user\"]}},\"big\":{");
  for(k=0; k<40; k++){
    ssoBufPrintf(&a.doc, "%s\"member%02d\":[%d,\"%0*d\",{\"x\":null}]",
                 k ? "," : "", k, k, 60, k);
  }
  ssoBufAppendStr(&a.doc, "},\"s\":\"\\u00e9\\ud83d\\ude00\"}");
  CHECK_INT( ssoJsonParse(a.doc.z, a.doc.n, 0, &pDoc, 0), SSOPROXY_OK );
  a.zExpect = 0;
  if( pDoc ){
    SsoBuf b;
    ssoBufInit(&b, 0);
    ssoJsonToBuf(ssoJsonRoot(pDoc), &b);
    a.zExpect = ssoBufFinish(&b, 0);
    ssoJsonFree(pDoc);
  }
  CHECK( a.zExpect!=0 && strlen(a.zExpect)>3000 );
  nRun = faultRun(jsonOomBody, jsonOomCheck, &a);
  CHECK( nRun>10 );
  ssoFree(a.zExpect);
  ssoBufFree(&a.doc);
}

/*
** Parse zText[0..n) from an exactly sized heap copy, so that ASan sees
** any read past its end (the parser is given z[0..n), no terminator).
*/
static int jsonParseExact(const char *zText, size_t n, unsigned mFlags,
                          SsoJsonDoc **ppDoc, SsoJsonErr *pErr){
  char *z = ssoMalloc(n ? n : 1);
  int rc;
  if( z==0 ) return SSOPROXY_NOMEM;
  if( n ) memcpy(z, zText, n);
  rc = ssoJsonParse(z, n, mFlags, ppDoc, pErr);
  ssoFree(z);
  return rc;
}

/*
** The one-pass string scanner at every alignment: each kind of escape,
** raw UTF-8 and DEL at every position of strings of 0..40 bytes (every
** offset within and across its 8-byte words, and in the byte-wise end),
** as a whole document ending exactly at the end of the buffer, as an
** array element and as a member name. The decoded bytes, the U+0000 flag
** and the writer's output (against refJsonString() of t_base.c) must all
** be right.
*/
static void test_json_string_positions(void){
  static const struct { const char *zIn, *zOut; size_t nOut; } aIns[] = {
    { "\\n", "\n", 1 },
    { "\\\"", "\"", 1 },
    { "\\\\", "\\", 1 },
    { "\\/", "/", 1 },
    { "\\t\\r", "\t\r", 2 },
    { "\\u00e9", "\xc3\xa9", 2 },
    { "\\u20AC", "\xe2\x82\xac", 3 },
    { "\\ud83d\\ude00", "\xf0\x9f\x98\x80", 4 },
    { "\\u0000", "\0", 1 },
    { "\\u007f", "\x7f", 1 },
    { "\xc3\xa9", "\xc3\xa9", 2 },
    { "\xe2\x82\xac", "\xe2\x82\xac", 3 },
    { "\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80", 4 },
    { "\x7f", "\x7f", 1 },
    { "~", "~", 1 },
  };
  size_t nLen, iPos, k;
  for(nLen=0; nLen<=40; nLen++){
    for(iPos=0; iPos<=nLen; iPos++){
      for(k=0; k<SSO_ARRAYSIZE(aIns); k++){
        char zText[128], zWant[64], zRef[512];
        size_t nIns = strlen(aIns[k].zIn), nWant, nText, nRef, n = 0, w;
        const char *zGot;
        SsoJsonDoc *pDoc = 0;
        SsoBuf b;
        int bNul = memchr(aIns[k].zOut, 0, aIns[k].nOut)!=0;
        memset(zWant, 'a', iPos);
        memcpy(zWant+iPos, aIns[k].zOut, aIns[k].nOut);
        memset(zWant+iPos+aIns[k].nOut, 'a', nLen-iPos);
        nWant = nLen + aIns[k].nOut;
        nRef = refJsonString(zRef, (const unsigned char*)zWant, nWant);
        for(w=0; w<3; w++){           /* bare, in an array, as a name */
          static const char *azPre[] = { "\"", "[\"", "{\"" };
          static const char *azPost[] = { "\"", "\"]", "\":0}" };
          nText = strlen(azPre[w]);
          memcpy(zText, azPre[w], nText);
          memset(zText+nText, 'a', iPos);
          memcpy(zText+nText+iPos, aIns[k].zIn, nIns);
          memset(zText+nText+iPos+nIns, 'a', nLen-iPos);
          nText += nLen + nIns;
          memcpy(zText+nText, azPost[w], strlen(azPost[w]));
          nText += strlen(azPost[w]);
          CHECK_INT( jsonParseExact(zText, nText, SSO_JSON_NODUP, &pDoc, 0),
                     SSOPROXY_OK );
          if( pDoc==0 ) continue;
          if( w==0 ){
            zGot = ssoJsonStr(ssoJsonRoot(pDoc), &n);
            CHECK( (ssoJsonCStr(ssoJsonRoot(pDoc))==0)==bNul );
          }else if( w==1 ){
            zGot = ssoJsonStr(ssoJsonAt(ssoJsonRoot(pDoc), 0), &n);
          }else{
            zGot = ssoJsonKey(ssoJsonAt(ssoJsonRoot(pDoc), 0), &n);
            CHECK( (ssoJsonKey(ssoJsonAt(ssoJsonRoot(pDoc), 0), 0)==0)==bNul );
          }
          CHECK( zGot!=0 && n==nWant && zGot[n]==0 );
          if( zGot && n==nWant && memcmp(zGot, zWant, n)!=0 ){
            tst.nCheckFail++;
            fprintf(stderr, "  FAIL: insert %zu at %zu of %zu: wrong bytes\n",
                    k, iPos, nLen);
          }
          if( w==0 ){
            ssoBufInit(&b, 0);
            CHECK_INT( ssoJsonToBuf(ssoJsonRoot(pDoc), &b), SSOPROXY_OK );
            CHECK( b.n==nRef && memcmp(b.z, zRef, nRef)==0 );
            ssoBufFree(&b);
          }
          ssoJsonFree(pDoc);
        }
      }
    }
  }
}

/*
** Errors inside strings at every position: the offset and message of
** the first problem, and "unterminated" for the same text without its
** closing quote, whatever else is wrong in it.
*/
static void test_json_string_errors(void){
  static const struct { const char *zBad; const char *zMsg; } aBad[] = {
    { "\x01", "control character in string" },
    { "\x1f", "control character in string" },
    { "\n", "control character in string" },
    { "\xc0\xaf", "invalid UTF-8 in string" },
    { "\xe2\x82" "a", "invalid UTF-8 in string" },
    { "\xed\xa0\x80", "invalid UTF-8 in string" },
    { "\xf4\x90\x80\x80", "invalid UTF-8 in string" },
    { "\x80", "invalid UTF-8 in string" },
    { "\\q", "invalid escape in string" },
    { "\\u12g4", "invalid \\u escape" },
    { "\\ud800a", "unpaired surrogate in \\u escape" },
    { "\\udc00", "unpaired surrogate in \\u escape" },
    { "\\ud800\\u0041", "unpaired surrogate in \\u escape" },
  };
  size_t nLen, iPos, k;
  for(nLen=0; nLen<=24; nLen++){
    for(iPos=0; iPos<=nLen; iPos++){
      for(k=0; k<SSO_ARRAYSIZE(aBad); k++){
        char zText[64];
        size_t nBad = strlen(aBad[k].zBad), nText = 0;
        SsoJsonDoc *pDoc = 0;
        SsoJsonErr err;
        zText[nText++] = '"';
        memset(zText+nText, 'a', iPos);
        memcpy(zText+nText+iPos, aBad[k].zBad, nBad);
        memset(zText+nText+iPos+nBad, 'a', nLen-iPos);
        nText += nLen + nBad;
        zText[nText++] = '"';
        CHECK_INT( jsonParseExact(zText, nText, 0, &pDoc, &err),
                   SSOPROXY_PARSE );
        CHECK_INT( err.iOfs, 1+iPos );
        CHECK_STR( err.zMsg, aBad[k].zMsg );
        /* Without the closing quote: unterminated, at the end. */
        CHECK_INT( jsonParseExact(zText, nText-1, 0, &pDoc, &err),
                   SSOPROXY_PARSE );
        CHECK_INT( err.iOfs, nText-1 );
        CHECK_STR( err.zMsg, "unterminated string" );
      }
    }
  }
}

/* Numbers of every length as the whole document (the last byte of the
** input) and as the last element, copied exactly. */
static void test_json_number_ends(void){
  static const char *azNum[] = {
    "0", "7", "-1", "42", "-0.5", "1e10", "123456", "1234567", "12345678",
    "-1234567", "0.000001", "123456789", "3.14159265358979",
    "-12345678901234567890", "1.5E+300", "98765432109876543210.125e-7",
  };
  size_t k;
  for(k=0; k<SSO_ARRAYSIZE(azNum); k++){
    char zText[64];
    size_t n = strlen(azNum[k]), nGot = 0;
    SsoJsonDoc *pDoc = 0;
    const char *zGot;
    CHECK_INT( jsonParseExact(azNum[k], n, 0, &pDoc, 0), SSOPROXY_OK );
    zGot = ssoJsonNumText(ssoJsonRoot(pDoc), &nGot);
    CHECK( zGot!=0 && nGot==n && strcmp(zGot, azNum[k])==0 );
    ssoJsonFree(pDoc);
    snprintf(zText, sizeof(zText), "[\"x\",%s]", azNum[k]);
    CHECK_INT( jsonParseExact(zText, strlen(zText), 0, &pDoc, 0),
               SSOPROXY_OK );
    CHECK_STR( ssoJsonNumText(ssoJsonAt(ssoJsonRoot(pDoc), 1), 0),
               azNum[k] );
    CHECK_STR( ssoJsonCStr(ssoJsonAt(ssoJsonRoot(pDoc), 0)), "x" );
    ssoJsonFree(pDoc);
  }
}

/* An object whose names are "n<k>", unique unless aSame maps k to an
** earlier k; returns the offset of member iMember's name. */
static size_t dupDoc(SsoBuf *pB, int nMember, const int *aSame, int iMember){
  size_t iOfs = 0;
  int k;
  ssoBufTruncate(pB, 0);
  ssoBufAppendChar(pB, '{');
  for(k=0; k<nMember; k++){
    if( k ) ssoBufAppendChar(pB, ',');
    if( k==iMember ) iOfs = pB->n;
    ssoBufPrintf(pB, "\"n%d%s\":%d", aSame[k],
                 aSame[k]%3 ? "" : "_long_name_x", k);
  }
  ssoBufAppendChar(pB, '}');
  return iOfs;
}

/*
** NODUP at every size around the thresholds of its three methods (pairs
** up to JSON_DUP_LINEAR, a hash table up to JSON_DUP_HASH, a sort above):
** distinct names pass; the first repeat in document order is reported
** even when a later member repeats an earlier name.
*/
static void test_json_dup_sizes(void){
  static const int aSize[] = {
    1, 2, 3, 7, 8, 9, 10, 16, 17, 22, 31, 32, 33, 64, 200, 256, 257, 600
  };
  int aSame[600];
  SsoBuf b;
  size_t k;
  ssoBufInit(&b, 0);
  for(k=0; k<SSO_ARRAYSIZE(aSize); k++){
    int n = aSize[k], i, iA, iB;
    SsoJsonDoc *pDoc = 0;
    SsoJsonErr err;
    size_t iOfs;
    for(i=0; i<n; i++) aSame[i] = i;
    dupDoc(&b, n, aSame, -1);
    CHECK_INT( ssoJsonParse(b.z, b.n, SSO_JSON_NODUP, &pDoc, &err),
               SSOPROXY_OK );
    CHECK_INT( ssoJsonCount(ssoJsonRoot(pDoc)), n );
    ssoJsonFree(pDoc);
    if( n<2 ) continue;
    /* Member iB repeats iA's name, and the last member repeats the first:
    ** iB is reported (it is earlier), unless iB is the last. */
    iA = n/3;
    iB = n/3 + (n - n/3)/2;
    if( iB<=iA ) iB = iA + 1;
    aSame[iB] = iA;
    aSame[n-1] = 0;
    if( iB==n-1 ) aSame[iB] = 0;
    iOfs = dupDoc(&b, n, aSame, iB);
    pDoc = 0;
    CHECK_INT( ssoJsonParse(b.z, b.n, SSO_JSON_NODUP, &pDoc, &err),
               SSOPROXY_PARSE );
    ssoJsonFree(pDoc);
    if( err.iOfs!=iOfs ){
      tst.nCheckFail++;
      fprintf(stderr, "  FAIL: %d members: repeat reported at %zu, not %zu\n",
              n, err.iOfs, iOfs);
    }
    CHECK( strncmp(err.zMsg, "duplicate key \"n", 16)==0 );
    CHECK_INT( ssoJsonParse(b.z, b.n, 0, &pDoc, &err), SSOPROXY_OK );
    ssoJsonFree(pDoc);
  }
  ssoBufFree(&b);
}

/*
** Names built to collide in the hash table (same slot for a table of 64,
** found by trying names): the probe budget runs out and the check falls
** back to the sort, which still gets the answer right.
*/
static void test_json_dup_collisions(void){
  char azName[JSON_DUP_HASH][16];
  SsoJson aMember[1];
  SsoBuf b;
  SsoJsonDoc *pDoc = 0;
  SsoJsonErr err;
  int nName = 0, i;
  unsigned u;
  size_t iOfs = 0;
  for(u=0; nName<JSON_DUP_HASH && u<10000000; u++){
    char z[16];
    snprintf(z, sizeof(z), "c%u", u);
    memset(aMember, 0, sizeof(aMember));
    aMember[0].zKey = z;
    aMember[0].nKey = (uint32_t)strlen(z);
    if( (keyHash(aMember) & (2*JSON_DUP_HASH-1))==0 ){
      memcpy(azName[nName++], z, sizeof(z));
    }
  }
  CHECK_INT( nName, JSON_DUP_HASH );
  ssoBufInit(&b, 0);
  ssoBufAppendChar(&b, '{');
  for(i=0; i<nName; i++){
    ssoBufPrintf(&b, "%s\"%s\":%d", i ? "," : "", azName[i], i);
  }
  ssoBufAppendChar(&b, '}');
  CHECK_INT( ssoJsonParse(b.z, b.n, SSO_JSON_NODUP, &pDoc, &err),
             SSOPROXY_OK );
  ssoJsonFree(pDoc);
  /* The first JSON_DUP_HASH-1 names and a repeat: still the table's size. */
  ssoBufTruncate(&b, 0);
  ssoBufAppendChar(&b, '{');
  for(i=0; i<nName-1; i++){
    ssoBufPrintf(&b, "%s\"%s\":%d", i ? "," : "", azName[i], i);
  }
  iOfs = b.n + 1;
  ssoBufPrintf(&b, ",\"%s\":0}", azName[JSON_DUP_HASH/2]);
  CHECK_INT( ssoJsonParse(b.z, b.n, SSO_JSON_NODUP, &pDoc, &err),
             SSOPROXY_PARSE );
  CHECK_INT( err.iOfs, iOfs );
  ssoBufFree(&b);
}

/* The next double up (d>0) or down from the positive finite r, by its
** bit pattern (the unit tests do not link libm's nextafter()). */
static double ulpStep(double r, int d){
  uint64_t u;
  memcpy(&u, &r, sizeof(u));
  u = d>0 ? u+1 : u-1;
  memcpy(&r, &u, sizeof(r));
  return r;
}

/* What ssoJsonWriteDouble() wrote before its printf-free path: the
** fewest digits from 1 up that read back, "whole numbers in full". */
static size_t refDouble(char *z, size_t nz, double r){
  const char *zExp;
  size_t n = 0;
  int nDigit;
  for(nDigit=1; nDigit<=17; nDigit++){
    double rBack = 0.0;
    n = fmtDouble(z, nz, nDigit, r);
    if( numToDouble(z, n, &rBack)==SSOPROXY_OK && rBack==r ) break;
  }
  zExp = strchr(z, 'e');
  if( zExp && zExp[1]=='+' && atoi(zExp+2)<17 ){
    n = fmtDouble(z, nz, atoi(zExp+2)+1, r);
  }
  return n;
}

/*
** The writer's doubles against that reference: the edges of the
** printf-free range (1e-4, 1e15), 15 against 16 and 17 digits, and
** pseudo-random decimals of 1..17 digits from 1e-7 to 1e17, each also
** one ulp up and down, and negated.
*/
static void test_json_writer_double_fast(void){
  static const double aEdge[] = {
    1e-4, 0.00010000000000000002, 9.999999999999999e-05, 1e15,
    999999999999999.0, 999999999999999.9, 100000000000000.1, 0.1, 0.2,
    0.30000000000000004, 123.456, 72.00933, 1.0/3.0, 2.0/3.0, 100.0,
    4503599627370496.5, 1e14+0.5, 0.5, 1.0, 9007199254740993.0, 5e-5,
  };
  unsigned long long uRand = 0x2545F4914F6CDD1DULL;
  SsoBuf b;
  int k, nBad = 0;
  ssoBufInit(&b, 0);
  for(k=0; k<4000; k++){
    char zRef[64];
    double r;
    size_t nRef;
    SsoJsonWriter w;
    if( k<(int)SSO_ARRAYSIZE(aEdge)*4 ){
      r = aEdge[k/4];
    }else{
      char z[48];
      int nDig, e, j;
      uRand ^= uRand<<13; uRand ^= uRand>>7; uRand ^= uRand<<17;
      nDig = 1 + (int)(uRand%17);
      e = (int)((uRand>>8)%25) - 8;
      for(j=0; j<nDig; j++){
        z[j] = (char)('0' + (j==0 ? 1 + (uRand>>(12+j*3))%9
                                  : (uRand>>(12+j*3))%10));
      }
      snprintf(z+nDig, 16, "e%d", e - nDig + 1);
      r = strtod(z, 0);
    }
    if( k%4==1 ) r = ulpStep(r, 1);
    if( k%4==2 ) r = ulpStep(r, -1);
    if( k%4==3 ) r = -r;
    nRef = refDouble(zRef, sizeof(zRef), r);
    ssoBufTruncate(&b, 0);
    ssoJsonWriteInit(&w, &b);
    ssoJsonWriteDouble(&w, r);
    CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_OK );
    if( b.n!=nRef || memcmp(b.z, zRef, nRef)!=0 ){
      if( nBad++<5 ){
        tst.nCheckFail++;
        fprintf(stderr, "  FAIL: %.17g: wrote %s, expected %.*s\n",
                r, ssoBufStr(&b), (int)nRef, zRef);
      }
    }
  }
  ssoBufFree(&b);
}

/*
** Writing parsed trees: the length is exact (a ceiling of exactly the
** output plus its NUL is enough), subtrees and members go where a value
** is due, and nesting counts the writer's own depth.
*/
static void test_json_tree_writer(void){
  static const char zDoc[] =
    "{\"a\\n\":[1,\"x\\u007fy\",{\"\\\"k\":null},true,false,-2.5e3],"
    "\"s\":\"plain\",\"e\":{},\"z\":[]}";
  static const char zOut[] =
    "{\"a\\n\":[1,\"x\\u007fy\",{\"\\\"k\":null},true,false,-2.5e3],"
    "\"s\":\"plain\",\"e\":{},\"z\":[]}";
  char zDeep[2*SSO_JSON_MAX_DEPTH];
  SsoJsonDoc *pDoc = jsonOk(zDoc), *pDeep;
  SsoJsonWriter w;
  SsoBuf b;
  size_t nOut = sizeof(zOut)-1;
  int d;
  ssoBufInit(&b, nOut+1);
  CHECK_INT( ssoJsonToBuf(ssoJsonRoot(pDoc), &b), SSOPROXY_OK );
  CHECK_STR( ssoBufStr(&b), zOut );
  ssoBufFree(&b);
  ssoBufInit(&b, nOut);
  CHECK_INT( ssoJsonToBuf(ssoJsonRoot(pDoc), &b), SSOPROXY_TOOBIG );
  ssoBufFree(&b);
  ssoBufInit(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginArray(&w);
  ssoJsonWriteValue(&w, ssoJsonGet(ssoJsonRoot(pDoc), "a\n"));
  ssoJsonWriteValue(&w, ssoJsonGet(ssoJsonRoot(pDoc), "s"));
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteKey(&w, "e");
  ssoJsonWriteValue(&w, ssoJsonGet(ssoJsonRoot(pDoc), "e"));
  ssoJsonWriteEndObject(&w);
  ssoJsonWriteEndArray(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_OK );
  CHECK_STR( ssoBufStr(&b), "[[1,\"x\\u007fy\",{\"\\\"k\":null},true,false,"
             "-2.5e3],\"plain\",{\"e\":{}}]" );
  /* A member value must follow a name. */
  ssoBufTruncate(&b, 0);
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginObject(&w);
  ssoJsonWriteValue(&w, ssoJsonRoot(pDoc));
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );
  /* A tree SSO_JSON_MAX_DEPTH deep fits at the top, not one level down. */
  for(d=0; d<SSO_JSON_MAX_DEPTH; d++){
    zDeep[d] = '[';
    zDeep[2*SSO_JSON_MAX_DEPTH-1-d] = ']';
  }
  CHECK_INT( ssoJsonParse(zDeep, sizeof(zDeep), 0, &pDeep, 0), SSOPROXY_OK );
  ssoBufTruncate(&b, 0);
  CHECK_INT( ssoJsonToBuf(ssoJsonRoot(pDeep), &b), SSOPROXY_OK );
  CHECK( b.n==sizeof(zDeep) && memcmp(b.z, zDeep, b.n)==0 );
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginArray(&w);
  ssoJsonWriteValue(&w, ssoJsonRoot(pDeep));
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_MISUSE );
  ssoJsonWriteInit(&w, &b);
  ssoJsonWriteBeginArray(&w);
  ssoJsonWriteValue(&w, ssoJsonAt(ssoJsonRoot(pDeep), 0));
  ssoJsonWriteEndArray(&w);
  CHECK_INT( ssoJsonWriteFinish(&w), SSOPROXY_OK );
  ssoJsonFree(pDeep);
  ssoBufFree(&b);
  ssoJsonFree(pDoc);
}

/*
** Allocation failure in the allocations the small document of
** test_json_oom no longer reaches: the parse stack moving to the heap and
** doubling, arena chunks beyond the first (more values than its guess),
** and the sort for an object above JSON_DUP_HASH members.
*/
static int jsonOomBigBody(void *pArg){
  SsoBuf *pDoc = pArg;
  SsoJsonDoc *pJson = 0;
  SsoJsonErr err;
  long long i = 0;
  int rc = ssoJsonParse(pDoc->z, pDoc->n, SSO_JSON_NODUP, &pJson, &err);
  if( rc ){
    if( err.rc!=rc || strcmp(err.zMsg, "out of memory")!=0 ) return -1;
    return rc;
  }
  if( ssoJsonCount(ssoJsonGet(ssoJsonRoot(pJson), "big"))!=300
   || ssoJsonCount(ssoJsonGet(ssoJsonRoot(pJson), "arr"))!=3000
   || ssoJsonInt64(ssoJsonGetPath(ssoJsonRoot(pJson), "big.m299"), &i)
   || i!=299 ){
    rc = -1;
  }
  ssoJsonFree(pJson);
  return rc;
}
static void test_json_oom_big(void){
  SsoBuf doc;
  int k;
  ssoBufInit(&doc, 0);
  ssoBufAppendStr(&doc, "{\"big\":{");
  for(k=0; k<300; k++) ssoBufPrintf(&doc, "%s\"m%d\":%d", k ? "," : "", k, k);
  ssoBufAppendStr(&doc, "},\"arr\":[");
  for(k=0; k<3000; k++) ssoBufAppendStr(&doc, k ? ",0" : "0");
  ssoBufAppendStr(&doc, "]}");
  CHECK_INT( jsonOomBigBody(&doc), SSOPROXY_OK );
  CHECK( faultRun(jsonOomBigBody, jsonOomCheck, &doc)>5 );
  ssoBufFree(&doc);
}

static const TestCase aJsonTests[] = {
  TEST_CASE(test_json_cases),
  TEST_CASE(test_json_messages),
  TEST_CASE(test_json_rfc8259_examples),
  TEST_CASE(test_json_strings),
  TEST_CASE(test_json_embedded_nul),
  TEST_CASE(test_json_getters),
  TEST_CASE(test_json_depth),
  TEST_CASE(test_json_limits),
  TEST_CASE(test_json_int64),
  TEST_CASE(test_json_double),
  TEST_CASE(test_json_duplicates),
  TEST_CASE(test_json_duplicates_big),
  TEST_CASE(test_json_path),
  TEST_CASE(test_json_writer),
  TEST_CASE(test_json_writer_double),
  TEST_CASE(test_json_locale),
  TEST_CASE(test_json_writer_misuse),
  TEST_CASE(test_json_roundtrip),
  TEST_CASE(test_json_oom),
  TEST_CASE(test_json_string_positions),
  TEST_CASE(test_json_string_errors),
  TEST_CASE(test_json_number_ends),
  TEST_CASE(test_json_dup_sizes),
  TEST_CASE(test_json_dup_collisions),
  TEST_CASE(test_json_writer_double_fast),
  TEST_CASE(test_json_tree_writer),
  TEST_CASE(test_json_oom_big),
};
