/*
** Tests for the JOSE module: the RFC 7515 Appendix A.2 (RS256) and A.3
** (ES256) examples; tokens and keys made with Node's crypto module for
** RS256, PS256 and ES256 (test/fixtures/jose/gen.js made them); hand-made
** bad tokens for each rule the verifier enforces (refused algs, algorithm
** confusion, key choice, tampering, signature encodings, malformed
** compact serialisations); JWK set parsing and the keys it must skip; the
** id_token claim checks; allocation failure at every point; and one key
** set shared by several threads.
*/
#include <pthread.h>

/* ---- RFC 7515 Appendix A.2 and A.3 ---- */

/* A.2's RSA key (the public part of its JWK) and token. */
static const char JOSE_RFC_A2_JWKS[] =
  "{\"keys\":[{\"kty\":\"RSA\","
  "\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx"
  "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs"
  "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"
  "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV"
  "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8"
  "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\","
  "\"e\":\"AQAB\"}]}";
static const char JOSE_RFC_A2[] =
  "eyJhbGciOiJSUzI1NiJ9"
  ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
  "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
  ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7"
  "AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4"
  "BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K"
  "0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
  "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB"
  "p0igcN_IoypGlUPQGe77Rw";

/* A.3's P-256 key and token. */
static const char JOSE_RFC_A3_JWKS[] =
  "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
  "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
  "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";
static const char JOSE_RFC_A3[] =
  "eyJhbGciOiJFUzI1NiJ9"
  ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
  "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
  ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
  "pmWQxfKTUJqPP3-Kg6NU1Q";

/* ---- Fixtures made by test/fixtures/jose/gen.js ----
** JOSE_JWKS holds rsa1 (use sig), rsa2, rsa-ps (alg PS256), ec1 (use sig,
** alg ES256) and rsa4096. Every token carries the claims
** {"iss":"https://idp.example","aud":"ssoproxy-test","sub":"alice",
**  "nonce":"n-0S6_WzA2Mj","iat":1700000000,"exp":1700003600}. */
static const char JOSE_JWKS[] =
  "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"ocO3KupLBzGT4RYs0w3cD0O11NrINO2JTD"
  "kuGBohUiNXSSr8fJlfKWSRha4x4fTf7TUO0dw7zz0yd0rb5n-SZfEE5Hairgg-9Edpef1v"
  "EV0ogzQtaxbDDJ27m445fEbHHvcrBCsKssdoKeKmH7zu2QFrrTwgrF1bdfPzbpn8FloRQz"
  "H2m5g4kE-U3eEJylrtttj71xccVfIYS54PzYa5_loAjIKRLJApu55GGRzJu0234U-E7u1P"
  "H9MiGPs-yGB76v-e1bWtFyuzVY5zNwAibb1grjy9LN27V_6c9-eJmPzZIFGLO2wVr8iAQm"
  "ypTTkVODeYc70v_89zv_msN8eOkQ\",\"e\":\"AQAB\",\"kid\":\"rsa1\",\"use\""
  ":\"sig\"},{\"kty\":\"RSA\",\"n\":\"2-ladWWCYaD9BfGXlnQvDLHd82elWXCmEKN"
  "l7BDaFxpGFAf_uJlM7uoaCX7XnBAm5kjI3Yrp-_PEzn6iKWmV49sKzv9zSyMQzlGiczEXb"
  "a_0Ak_iCNYLgsPnVnbq4VyM269laN2b30cOnbUsYicJSj7YVLmpfE-cjEI_SBPlD0N02xC"
  "oByZcGI-7sXoN792Xj8y58qM8HE4FZR8p4_tV125QDY-CS4oSO6FL4y18BVwiXSVWg_COC"
  "-AwaKxp7DOMj64vlBpCgegQ-xP1D_JTYSdH_6eseHMP4fKtIaU1W5gZlMxQ1Z8ORr2yWWt"
  "1xMYgwfyVF4qpDI_VrtRcz7MM1Q\",\"e\":\"AQAB\",\"kid\":\"rsa2\"},{\"kty"
  "\":\"RSA\",\"n\":\"mHVvl3LIQ4kNC6vLB98BXMcZwgoQWoTZhEeMrK8RO3YLmIRzAPI"
  "2BIjIC3zEn86HayGYi5K1Xh8cbNckaQ4Szkb7bYDzhcOu1uPdRQcXuQ2wZOdBYlCPSp2DU"
  "8_SfApkAXIPJXOR2f9CsXwI5CBJ_vM1kyqVUlWAhiEJofxcY6zqV7zM2I6OkKTT8_ZECmQ"
  "-JE_ySfyo5uXDsyo9ZX5ili5m7-8l4f_k8bzEUMsJ1pndYpGPNeJYxaSovF8zjg6Gr475y"
  "uCeb34AmdrB1PUXelH46jvNp6GAdo7ndcCU8gnvYQslor1FZGiHG63gJLMQ-k85DBZ9Olg"
  "mnsGpNMFpQw\",\"e\":\"AQAB\",\"kid\":\"rsa-ps\",\"alg\":\"PS256\"},{\""
  "kty\":\"EC\",\"x\":\"Aov7Qww4AO2J44ibHjbdT4YnZsNYc3N36cWKVKXx_WM\",\"y"
  "\":\"fHRjy-IB601tSmOG2Ag3IxfL2-W9WovQ_6EDUbdj_hs\",\"crv\":\"P-256\","
  "\"kid\":\"ec1\",\"use\":\"sig\",\"alg\":\"ES256\"},{\"kty\":\"RSA\",\""
  "n\":\"uGv0YU_nA0vEAbJpAM565UHQUWC7x35GDgufxJPB-7trMAwMaNw29stJyIAS2WNN"
  "UTCTZ4Jst3uPam1ZS2kKUhZOR-0g0u4gbP7XPVnRFJxAHmdTe5-jlgBm1mwHw6IWd_v5lL"
  "XDKsDWHv0g1u_Hcawrf-M_yLWuAAU8mbbIuFKByG_nXwfCqHdH7GW-noEBs-o1Uh2BO6v2"
  "W5za8lHYMJA0bUBqgRTkpOhOYTtm_ZkU_8pchaPeWDLkfWec_jmW5plTlsMhWL_5BiuV3r"
  "VMyatLu84qzzQo6kWMinrfH3AY6tCBXOBkMrBlOI-9kwy0avadCUh0veg-K86SkLwrh15o"
  "Jx7LtH1pQu-y8YVXo_4PT-566FGMSOjot7W54RM7EwLW4JdEGbukglh4zaVmodwd7W1zTX"
  "LONefylUEMolRmwu6glxsKqFDbyCx-MVzI6CGFW6Vub_xOIMNZoO2BHZyD2Y22akK-knbH"
  "GT4683FoL9libJJ8KHoKn4sN2IoHCQZbh9Y_NjBQsTmKnSSdk2wl_T6CRtyjmCHNzF350H"
  "FStokJy4FxEkSfRWheZDnuJo0wS9vcnljUpgtTm40nzpWgO4VvddcOWvMUBPFCCFGGn6gJ"
  "IqVO6t5iBDCeQMczakteLmMt6BfsB4LDWovhItpOE66ij9c9MYcukf7q0tE\",\"e\":\""
  "AQAB\",\"kid\":\"rsa4096\"}]}";
static const char JOSE_JWKS_SMALL[] =
  "{\"keys\":[{\"kty\":\"RSA\",\"n\":\"3jCgxh0JLnr-Fkd45fwop3XZmwPA2kQaRW"
  "H0qP1Qu7_nsSy8rhNMH5xta10kL67hxkrQ9EdLroZ7nj7OSnEy6Q1ABwgW7NXsbG62KcS7"
  "5ISnE20T28Z38YEEl_zqB6YVIfrqpLYipjtRzOEehh5kNjdbbqiRuAMeapZds3peLV8\","
  "\"e\":\"AQAB\",\"kid\":\"small\"}]}";
static const char JOSE_RSA1_PEM[] =
  "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQ"
  "EAocO3KupLBzGT4RYs0w3c\nD0O11NrINO2JTDkuGBohUiNXSSr8fJlfKWSRha4x4fTf7T"
  "UO0dw7zz0yd0rb5n+S\nZfEE5Hairgg+9Edpef1vEV0ogzQtaxbDDJ27m445fEbHHvcrBC"
  "sKssdoKeKmH7zu\n2QFrrTwgrF1bdfPzbpn8FloRQzH2m5g4kE+U3eEJylrtttj71xccVf"
  "IYS54PzYa5\n/loAjIKRLJApu55GGRzJu0234U+E7u1PH9MiGPs+yGB76v+e1bWtFyuzVY"
  "5zNwAi\nbb1grjy9LN27V/6c9+eJmPzZIFGLO2wVr8iAQmypTTkVODeYc70v/89zv/msN8"
  "eO\nkQIDAQAB\n-----END PUBLIC KEY-----\n";
static const char JOSE_RS256[] =
  "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTEiLCJ0eXAiOiJKV1QifQ.eyJpc3MiOiJodHR"
  "wczovL2lkcC5leGFtcGxlIiwiYXVkIjoic3NvcHJveHktdGVzdCIsInN1YiI6ImFsaWNlI"
  "iwibm9uY2UiOiJuLTBTNl9XekEyTWoiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDA"
  "wMzYwMH0.TJUO6rC4FfsDvBklD438shEwWElmP_n7TfZ4Sc-gDoTD_-BVVYTU5_jbnGzJC"
  "7i_3AI4UZ3LYuRTEgyXYg-8ie-PgeSFKks-Mc8O5wE4ZWD-rsuqEs9SNFJug58sW4bZVMv"
  "qZbAhmQBcHlP9cLVffQRq9ICzFH7IP80EzQneHqcHcTmEwfLUyT5mhQetWxupKH3hHJUTp"
  "CiQBEMzhM1hsAC5lLSlDrOUsocQBgVpTBVDFwl2ywXBJ2JL1kolUMw3ok1ZXhesUkxCZ-d"
  "w7mWhbdSb5VXtNPuYeY6lk-joxW3ds8RHpMdZ6qbg_zrxBnfXXvp5LOaVcMBqRurlS_Dhn"
  "A";
static const char JOSE_PS256[] =
  "eyJhbGciOiJQUzI1NiIsImtpZCI6InJzYTEifQ.eyJpc3MiOiJodHRwczovL2lkcC5leGF"
  "tcGxlIiwiYXVkIjoic3NvcHJveHktdGVzdCIsInN1YiI6ImFsaWNlIiwibm9uY2UiOiJuL"
  "TBTNl9XekEyTWoiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.Kvcc831"
  "REL7nkBBeRGDgk0ahAJXhZ3-AaK4_yw5Sg368p2opXCICD6UDbDXaLAfsemxkUyW2KqAPY"
  "Yhx4TPjuH3NHdaK3jNW9bkZPvraZXysrsdWOtYqgq-JyhXzpRIeKS2wfx2ryHvxbdzatX8"
  "a57tv-nNHCO8HxHXvN6R2A9aQ3FqJD8vWJ3gHLMThQRPP2z_PCiAj0sfof25pZQXFBFS2M"
  "HffNDEcEiqgaU3agVsllD8vW3yVc2diL8qJug_qi9jZJwxiDCJB02o0yw87si3AcwPgP5o"
  "9Az298mHwAAV1hAZmCAKC7Ey_hXYdq24xH8N3EHTXKNhHWy4IsgqtrQ";
static const char JOSE_PS256_ALGKEY[] =
  "eyJhbGciOiJQUzI1NiIsImtpZCI6InJzYS1wcyJ9.eyJpc3MiOiJodHRwczovL2lkcC5le"
  "GFtcGxlIiwiYXVkIjoic3NvcHJveHktdGVzdCIsInN1YiI6ImFsaWNlIiwibm9uY2UiOiJ"
  "uLTBTNl9XekEyTWoiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.JCpss"
  "ghYACGlsDcOhyxQ-J61VvhWzIn9WzscY2vvM0I3xcETONHkqv1tnSqmpGHXcq3vRwPtPyu"
  "YpuC88grpSthoCm16cQ9DPj7Ad2aFcS2TAi1aMSjy9op25G39_iX9er_Pbz0QuCR2T3akI"
  "75T0-iNoHjTo3wmYiddBz_y-7O44cA8VtvZkGK0yui4NsYI4eTl7SDT-RNZVGebmrfP6NX"
  "tEaHmiMJ6nn9OQWxACLZcgkFXBS7UwyycHhAuMX649SDa8RKU7WPd5eAGrrpW4Z7eHLmSh"
  "SuwvH4tkXsDkW_7CtLMU3cW6IzfJdDyfA5qqB8l-7KEsukUFesMk851Nw";
static const char JOSE_RS256_ALGKEY[] =
  "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS1wcyJ9.eyJpc3MiOiJodHRwczovL2lkcC5le"
  "GFtcGxlIiwiYXVkIjoic3NvcHJveHktdGVzdCIsInN1YiI6ImFsaWNlIiwibm9uY2UiOiJ"
  "uLTBTNl9XekEyTWoiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.A35Mm"
  "__H1rVDYdKILadRHeprpqK92pFmBxv1Z-4G-vUTv2_DzFYWB7a3mpt2hALzeff72HuKNTL"
  "XphHi4sqarbU0NkJs0srQUh3AmdKm73H3YwgTb3AcFYXUpVieSjSHwdgiphjhd1AYwkTkA"
  "UzTke0zGknl2MXRml8MYo9QnL0P9Leh1L11V75M1aLVeQklJesBXu6naZa-x-YX_Tk_cKZ"
  "GKMoVb5caEPkPTmMnmPfMHG7pSvqvQW6yoHY5KUXk01cLqQzBQyxSQVikutiSbKGDelBIt"
  "nA46e7vUwWH_n_gIFihjn_Y6uXkxCs-F39X0p-ey-j5Qi-hwGrn8wRljA";
static const char JOSE_ES256[] =
  "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtc"
  "GxlIiwiYXVkIjoic3NvcHJveHktdGVzdCIsInN1YiI6ImFsaWNlIiwibm9uY2UiOiJuLTB"
  "TNl9XekEyTWoiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.c8DrbpzwQ"
  "flb0w5zgbJqFXbj7U21Wu6jfnX4LtZQI81B5_GTKM_Sb10PKboUaLekusReqkyGyeEpZ2X"
  "z39fiIw";
static const char JOSE_ES256_NOKID[] =
  "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwiYXVkIjoic"
  "3NvcHJveHktdGVzdCIsInN1YiI6ImFsaWNlIiwibm9uY2UiOiJuLTBTNl9XekEyTWoiLCJ"
  "pYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.Aqk5_mfmRyftQfyszuz78XbTd"
  "xZQxTMAMVVjAnQCEg9XP0mvdq5gLL8cE03lzODSP92nljyLMp2nnI31k5xYwA";
static const char JOSE_ES256_DER[] =
  "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjMSJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtc"
  "GxlIiwiYXVkIjoic3NvcHJveHktdGVzdCIsInN1YiI6ImFsaWNlIiwibm9uY2UiOiJuLTB"
  "TNl9XekEyTWoiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.MEQCIAPRU"
  "Z9gP3jg8Iq9E7RTFssDN4Is6pjrrLF_kHZ8i8khAiABWr9c-4DCvk3ECE-pLyAAwhjOsaB"
  "EFmV54ybt_asfTQ";
static const char JOSE_RS256_NOKID[] =
  "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlIiwiYXVkIjoic"
  "3NvcHJveHktdGVzdCIsInN1YiI6ImFsaWNlIiwibm9uY2UiOiJuLTBTNl9XekEyTWoiLCJ"
  "pYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.dJ0-TvQ4s6R7Fs9wF1ycxw_Wv"
  "1hsEcgu3LtPwNamlnCnvdpz1c-vMqdExnjGNmOAIC43n-P_rnHivJQR370_InS_t78HMTP"
  "1c7ParpCi4ORIeynTYlxT_2ZpPwxo4H73Gr2CkqW4xvQG433s6knOMrVNm3C1aEuspElsZ"
  "SY9yrOtD1SkbltAYBQK-ljLM-PBu35mhBPjzCbbbl-QVz-4WEnHIuucy1O1I4oAW-HReiG"
  "nj1L7Yl9Z1zMryenDNy5hKdUSW5rkSU9CL_o0ZiQLbm5wkJnj3Fhk9d0FAXH5z3HkIEXeW"
  "yOHK5TRcUpzSz9N1IS3UajVJeNGzyzDcTXr3w";
static const char JOSE_RS256_4096[] =
  "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYTQwOTYifQ.eyJpc3MiOiJodHRwczovL2lkcC5"
  "leGFtcGxlIiwiYXVkIjoic3NvcHJveHktdGVzdCIsInN1YiI6ImFsaWNlIiwibm9uY2UiO"
  "iJuLTBTNl9XekEyTWoiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.Amn"
  "F_mekeaGN5Slmur4JtEE_e8GKuUxdHSsmsCC1pghWDJC7KbcsyOmyLHpCcXINu3zXyvZWt"
  "S96j2z-10ITwjA0hp3LZlGTdQL1rBNoXlNuBjz_YimCX2qXUDq964g-X40lYpTP9z9Yq6I"
  "1IyYLZDz8w8S1JBGnzxe6x4hGPRnxp67JTZIL7ihlwcVz4rcDHDyZn9QGQ0xnTNBCWxhQy"
  "rfzmoCj1mpokdG9lm9pyDduNRoRvtSkwNPJ81mx8AE4FMOGdFrLevpqDpAnzcgE-jfwS4J"
  "Z9TbrLERs_t55v8Fg5Ehch_-zsNot-zySJXntChwipFnVqjCTuIwEt0Mjj9nASlXG_YnKC"
  "gYLuNDeEfn5mZJw2l9ne0BO-lqVEIRhifIjYN36bZrad3vXXW2knv0TTm5LCnhEFET1lTQ"
  "8gr709GJKNUXYr1764BTGIlxhB1fb8AQzkvEWjS14Hxcq4M22F1ImpuoEjZ0UjTz5JdH4U"
  "ZSoEzi9htenrwq6_hC0vLusTAt1-PzX5yMzXEDQqFBGfORdgIhr-Q1NrX3VjcauQg86TNa"
  "2T52NPz73xd_vglcRjixYbOR-uoufqSYzSS7lIa33bIwGW8CIp8_65b8YzHSKYyFAJSACM"
  "nAvMA2L2zEB74rekLMgW_TyoWShtPXe7_Els9HlLZo8I4bWaO8";
static const char JOSE_RS256_SMALL[] =
  "eyJhbGciOiJSUzI1NiIsImtpZCI6InNtYWxsIn0.eyJpc3MiOiJodHRwczovL2lkcC5leG"
  "FtcGxlIiwiYXVkIjoic3NvcHJveHktdGVzdCIsInN1YiI6ImFsaWNlIiwibm9uY2UiOiJu"
  "LTBTNl9XekEyTWoiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.Hmgvnm"
  "-Cndqq0ZRrM9RwLycf2Im7bZyy1X1hbnvZuBXYlYeaAP0XRp5xmnby5mcfYcW57zS2k5VU"
  "3a5KZ8HzMr8Jhi9MIw8VunkqKOuLKzNfY53CQRxxrFFjfVsg9gXi4GvOA1-dFI7v7ImhLo"
  "m4YC1vaP0xidSBHAOxJWpPSns";
static const char JOSE_HS256_CONFUSED[] =
  "eyJhbGciOiJIUzI1NiIsImtpZCI6InJzYTEifQ.eyJpc3MiOiJodHRwczovL2lkcC5leGF"
  "tcGxlIiwiYXVkIjoic3NvcHJveHktdGVzdCIsInN1YiI6ImFsaWNlIiwibm9uY2UiOiJuL"
  "TBTNl9XekEyTWoiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0.VR5XWqZ"
  "oCfhi7GQXKh1kZkOUDeg-QBb_HeC62tnYYjk";

#define JOSE_CLAIMS "{\"iss\":\"https://idp.example\",\"aud\":\"ssoproxy-test\"," \
  "\"sub\":\"alice\",\"nonce\":\"n-0S6_WzA2Mj\",\"iat\":1700000000," \
  "\"exp\":1700003600}"
#define JOSE_NOW 1700000100000LL    /* 100 s after iat, in ms */

/* A token from a header and payload text and a base64url signature; the
** caller ssoFree()s it. */
static char *joseMake(const char *zHead, const char *zBody, const char *zSig){
  SsoBuf b;
  ssoBufInit(&b, 0);
  ssoB64Encode(&b, zHead, strlen(zHead), SSO_B64_URL);
  ssoBufAppendStr(&b, ".");
  ssoB64Encode(&b, zBody, strlen(zBody), SSO_B64_URL);
  ssoBufAppendStr(&b, ".");
  ssoBufAppendStr(&b, zSig);
  return ssoBufFinish(&b, 0);
}

/* The iPart-th part (0, 1, 2) of a token, as a new C string. */
static char *josePart(const char *zTok, int iPart){
  const char *z = zTok, *zEnd;
  while( iPart-- > 0 ) z = strchr(z, '.') + 1;
  zEnd = strchr(z, '.');
  return ssoStrndup(z, zEnd ? (size_t)(zEnd - z) : strlen(z));
}

/*
** A copy of zTok with part iPart decoded, changed and encoded again: byte
** iByte (from the end if negative) XORed with mask, then nCut bytes cut
** off the end and nAdd zero bytes added at the front. ssoFree() it.
*/
static char *joseEdit(const char *zTok, int iPart, int iByte,
                      unsigned mask, size_t nCut, size_t nAdd){
  char *azPart[3], *zOut;
  unsigned char *a = 0, *a2;
  size_t n = 0;
  int i;
  SsoBuf b;
  for(i=0; i<3; i++) azPart[i] = josePart(zTok, i);
  ssoB64DecodeAlloc(azPart[iPart], strlen(azPart[iPart]), SSO_B64_URL,
                    &a, &n, 0);
  if( iByte<0 ) iByte += (int)n;
  a[iByte] ^= (unsigned char)mask;
  n -= nCut;
  a2 = ssoMallocZero(n + nAdd + 1);
  memcpy(a2 + nAdd, a, n);
  ssoBufInit(&b, 0);
  for(i=0; i<3; i++){
    if( i ) ssoBufAppendStr(&b, ".");
    if( i==iPart ) ssoB64Encode(&b, a2, n + nAdd, SSO_B64_URL);
    else ssoBufAppendStr(&b, azPart[i]);
    ssoFree(azPart[i]);
  }
  ssoFree(a);
  ssoFree(a2);
  zOut = ssoBufFinish(&b, 0);
  return zOut;
}

/* Parse a JWKS that must parse. */
static SsoJwks *joseKeys(const char *z){
  SsoJwks *p = 0;
  char zErr[200];
  int rc = ssoJwksParse(z, strlen(z), &p, zErr, sizeof(zErr));
  if( rc ) fprintf(stderr, "  JWKS: %s\n", zErr);
  CHECK_INT( rc, SSOPROXY_OK );
  return p;
}

/* Decode and verify zTok against pKeys; returns ssoJwtVerify()'s result
** (or ssoJwtDecode()'s when that fails), the message in zErr. */
static int joseCheck(const char *zTok, const SsoJwks *pKeys,
                     char *zErr, size_t nErr){
  SsoJwt jwt;
  int rc = ssoJwtDecode(zTok, strlen(zTok), &jwt, zErr, nErr);
  if( rc==SSOPROXY_OK ) rc = ssoJwtVerify(&jwt, pKeys, zErr, nErr);
  ssoJwtFree(&jwt);
  return rc;
}

/* Decode must fail with SSOPROXY_PARSE and a message holding zWant. */
#define JOSE_BAD_DECODE(zTok, zWant) do{ \
    SsoJwt jwt_; char zE_[200]; \
    const char *zT_ = (zTok); \
    CHECK_INT( ssoJwtDecode(zT_, strlen(zT_), &jwt_, zE_, sizeof(zE_)), \
               SSOPROXY_PARSE ); \
    if( strstr(zE_, zWant)==0 ){ \
      tst.nCheckFail++; \
      fprintf(stderr, "  FAIL %s:%d: %s: message \"%s\" lacks \"%s\"\n", \
              __FILE__, __LINE__, tst.zCase, zE_, zWant); } \
    CHECK( jwt_.pClaims==0 && jwt_.pHeader==0 ); \
    ssoJwtFree(&jwt_); }while(0)

/* ---- The RFC examples ---- */

static void test_jose_rfc7515_a2(void){
  SsoJwks *pKeys = joseKeys(JOSE_RFC_A2_JWKS);
  SsoJwt jwt;
  char zErr[200], *z;
  long long iExp = 0;
  CHECK_INT( ssoJwksCount(pKeys), 1 );
  CHECK_INT( ssoJwtDecode(JOSE_RFC_A2, strlen(JOSE_RFC_A2), &jwt, zErr,
                          sizeof(zErr)), SSOPROXY_OK );
  CHECK_STR( jwt.zAlg, "RS256" );
  CHECK( jwt.zKid==0 );
  CHECK_STR( ssoJsonCStr(ssoJsonGet(ssoJsonRoot(jwt.pClaims), "iss")), "joe" );
  CHECK_INT( ssoJsonInt64(ssoJsonGet(ssoJsonRoot(jwt.pClaims), "exp"), &iExp),
             SSOPROXY_OK );
  CHECK_INT( iExp, 1300819380 );
  CHECK_INT( jwt.nSig, 256 );
  CHECK_INT( ssoJwtVerify(&jwt, pKeys, zErr, sizeof(zErr)), SSOPROXY_OK );
  CHECK_STR( zErr, "" );
  ssoJwtFree(&jwt);
  /* The A.2 token does not verify with the A.3 key set, nor tampered. */
  z = joseEdit(JOSE_RFC_A2, 1, 3, 0x01, 0, 0);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  ssoFree(z);
  ssoJwksFree(pKeys);
  pKeys = joseKeys(JOSE_RFC_A3_JWKS);
  CHECK_INT( joseCheck(JOSE_RFC_A2, pKeys, zErr, sizeof(zErr)),
             SSOPROXY_NOTFOUND );
  ssoJwksFree(pKeys);
}

static void test_jose_rfc7515_a3(void){
  SsoJwks *pKeys = joseKeys(JOSE_RFC_A3_JWKS);
  SsoJwt jwt;
  char zErr[200], *z;
  CHECK_INT( ssoJwksCount(pKeys), 1 );
  CHECK_INT( ssoJwtDecode(JOSE_RFC_A3, strlen(JOSE_RFC_A3), &jwt, zErr,
                          sizeof(zErr)), SSOPROXY_OK );
  CHECK_STR( jwt.zAlg, "ES256" );
  CHECK_INT( jwt.nSig, 64 );
  CHECK_INT( ssoJwtVerify(&jwt, pKeys, zErr, sizeof(zErr)), SSOPROXY_OK );
  ssoJwtFree(&jwt);
  z = joseEdit(JOSE_RFC_A3, 2, 40, 0x80, 0, 0);     /* a bit of s */
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  CHECK( strstr(zErr, "does not verify")!=0 );
  ssoFree(z);
  ssoJwksFree(pKeys);
}

/* ---- Fresh tokens of each alg ---- */

static void test_jose_fresh_tokens(void){
  static const struct { const char *zTok, *zAlg, *zKid; } aTok[] = {
    { JOSE_RS256,        "RS256", "rsa1" },
    { JOSE_PS256,        "PS256", "rsa1" },
    { JOSE_PS256_ALGKEY, "PS256", "rsa-ps" },
    { JOSE_ES256,        "ES256", "ec1" },
    { JOSE_ES256_NOKID,  "ES256", 0 },
    { JOSE_RS256_NOKID,  "RS256", 0 },
    { JOSE_RS256_4096,   "RS256", "rsa4096" },
  };
  SsoJwks *pKeys = joseKeys(JOSE_JWKS);
  size_t i;
  CHECK_INT( ssoJwksCount(pKeys), 5 );
  CHECK_INT( ssoJwksSkipped(pKeys), 0 );
  CHECK_STR( ssoJwksSkipReason(pKeys), "" );
  for(i=0; i<SSO_ARRAYSIZE(aTok); i++){
    SsoJwt jwt;
    char zErr[200];
    CHECK_INT( ssoJwtDecode(aTok[i].zTok, strlen(aTok[i].zTok), &jwt, zErr,
                            sizeof(zErr)), SSOPROXY_OK );
    CHECK_STR( jwt.zAlg, aTok[i].zAlg );
    if( aTok[i].zKid ) CHECK_STR( jwt.zKid, aTok[i].zKid );
    else CHECK( jwt.zKid==0 );
    CHECK_STR( ssoJsonCStr(ssoJsonGet(ssoJsonRoot(jwt.pClaims), "sub")),
               "alice" );
    if( ssoJwtVerify(&jwt, pKeys, zErr, sizeof(zErr))!=SSOPROXY_OK ){
      tst.nCheckFail++;
      fprintf(stderr, "  FAIL token %zu: %s\n", i, zErr);
    }
    ssoJwtFree(&jwt);
  }
  ssoJwksFree(pKeys);
}

/* ---- Refused algorithms ---- */

static void test_jose_alg_refused(void){
  static const char *azAlg[] = {
    "none", "None", "NONE", "HS256", "HS384", "HS512", "RS384", "RS512",
    "ES384", "ES512", "PS384", "EdDSA", "rs256", "RS256 ", "",
  };
  SsoJwks *pKeys = joseKeys(JOSE_JWKS);
  char zErr[200], *zSig = josePart(JOSE_RS256, 2);
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azAlg); i++){
    char zHead[64], *z;
    snprintf(zHead, sizeof(zHead), "{\"alg\":\"%s\",\"kid\":\"rsa1\"}",
             azAlg[i]);
    /* alg none travels with an empty signature (RFC 7519 §6.1). */
    z = joseMake(zHead, JOSE_CLAIMS, strcmp(azAlg[i], "none")==0 ? "" : zSig);
    CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
    CHECK( strstr(zErr, "is not accepted")!=0 );
    ssoFree(z);
  }
  /* The same with no kid: still refused, not "no key". */
  {
    char *z = joseMake("{\"alg\":\"none\"}", JOSE_CLAIMS, "");
    CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
    ssoFree(z);
  }
  ssoFree(zSig);
  ssoJwksFree(pKeys);
}

/*
** Algorithm confusion: HS256 keyed with the RSA public key's own PEM
** text, the key a naive library hands to HMAC when the token says HS256.
** The fixture is a genuine such token (its HMAC is recomputed here) and
** must still be refused.
*/
static void test_jose_hs256_confusion(void){
  SsoJwks *pKeys = joseKeys(JOSE_JWKS);
  SsoJwt jwt;
  char zErr[200];
  const char *zDot = strrchr(JOSE_HS256_CONFUSED, '.');
  unsigned char aMac[SSO_SHA256_LEN];
  CHECK_INT( ssoJwtDecode(JOSE_HS256_CONFUSED, strlen(JOSE_HS256_CONFUSED),
                          &jwt, zErr, sizeof(zErr)), SSOPROXY_OK );
  CHECK_STR( jwt.zAlg, "HS256" );
  CHECK_STR( jwt.zKid, "rsa1" );
  CHECK_INT( ssoHmacSha256(JOSE_RSA1_PEM, strlen(JOSE_RSA1_PEM),
                           JOSE_HS256_CONFUSED,
                           (size_t)(zDot - JOSE_HS256_CONFUSED), aMac), 0 );
  CHECK( jwt.nSig==sizeof(aMac) && memcmp(jwt.aSig, aMac, sizeof(aMac))==0 );
  CHECK_INT( ssoJwtVerify(&jwt, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  CHECK( strstr(zErr, "HS256")!=0 );
  ssoJwtFree(&jwt);
  ssoJwksFree(pKeys);
}

/* ---- Key choice ---- */

static void test_jose_kid_unknown(void){
  SsoJwks *pKeys = joseKeys(JOSE_JWKS), *pRsaOnly;
  char zErr[200], *zSig = josePart(JOSE_RS256, 2), *z;
  z = joseMake("{\"alg\":\"RS256\",\"kid\":\"rsa9\"}", JOSE_CLAIMS, zSig);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_NOTFOUND );
  CHECK( strstr(zErr, "no key with kid \"rsa9\"")!=0 );
  ssoFree(z);
  /* A kid is matched exactly, not as a prefix or without case. */
  z = joseMake("{\"alg\":\"RS256\",\"kid\":\"rsa\"}", JOSE_CLAIMS, zSig);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_NOTFOUND );
  ssoFree(z);
  z = joseMake("{\"alg\":\"RS256\",\"kid\":\"RSA1\"}", JOSE_CLAIMS, zSig);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_NOTFOUND );
  ssoFree(z);
  /* No key set, or an empty one. */
  CHECK_INT( joseCheck(JOSE_RS256, 0, zErr, sizeof(zErr)), SSOPROXY_NOTFOUND );
  CHECK_INT( joseCheck(JOSE_ES256_NOKID, 0, zErr, sizeof(zErr)),
             SSOPROXY_NOTFOUND );
  /* Without a kid and without a key of the kty. */
  pRsaOnly = joseKeys(JOSE_RFC_A2_JWKS);
  CHECK_INT( joseCheck(JOSE_ES256_NOKID, pRsaOnly, zErr, sizeof(zErr)),
             SSOPROXY_NOTFOUND );
  CHECK( strstr(zErr, "no EC P-256 key for ES256")!=0 );
  ssoJwksFree(pRsaOnly);
  ssoFree(zSig);
  ssoJwksFree(pKeys);
}

/* Without a kid, every key of the kty is tried: the token signed by rsa2
** verifies though rsa1 comes first; a bad one names how many were tried. */
static void test_jose_nokid_several(void){
  SsoJwks *pKeys = joseKeys(JOSE_JWKS);
  char zErr[200], *z;
  CHECK_INT( joseCheck(JOSE_RS256_NOKID, pKeys, zErr, sizeof(zErr)),
             SSOPROXY_OK );
  z = joseEdit(JOSE_RS256_NOKID, 2, 7, 0x10, 0, 0);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  /* rsa1, rsa2 and rsa4096: rsa-ps is for PS256 only. */
  CHECK( strstr(zErr, "none of 3 keys")!=0 );
  ssoFree(z);
  ssoJwksFree(pKeys);
}

/* A kid naming a key of the wrong type, or one whose JWK alg differs. */
static void test_jose_kid_unfit(void){
  SsoJwks *pKeys = joseKeys(JOSE_JWKS);
  char zErr[200], *zSig = josePart(JOSE_RS256, 2), *z;
  z = joseMake("{\"alg\":\"RS256\",\"kid\":\"ec1\"}", JOSE_CLAIMS, zSig);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  CHECK( strstr(zErr, "does not fit alg RS256")!=0 );
  ssoFree(z);
  ssoFree(zSig);
  zSig = josePart(JOSE_ES256, 2);
  z = joseMake("{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", JOSE_CLAIMS, zSig);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  ssoFree(z);
  ssoFree(zSig);
  /* A genuine RS256 signature by the key whose JWK says alg PS256. */
  CHECK_INT( joseCheck(JOSE_RS256_ALGKEY, pKeys, zErr, sizeof(zErr)),
             SSOPROXY_ERROR );
  CHECK( strstr(zErr, "\"rsa-ps\" does not fit")!=0 );
  CHECK_INT( joseCheck(JOSE_PS256_ALGKEY, pKeys, zErr, sizeof(zErr)),
             SSOPROXY_OK );
  ssoJwksFree(pKeys);
}

/* ---- Tampering ---- */

static void test_jose_tampered(void){
  static const char *azTok[] = { JOSE_RS256, JOSE_PS256, JOSE_ES256 };
  SsoJwks *pKeys = joseKeys(JOSE_JWKS);
  char zErr[200];
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azTok); i++){
    char *zBody = josePart(azTok[i], 1), *z;
    unsigned char *a = 0;
    size_t n = 0;
    int iSub;
    CHECK_INT( joseCheck(azTok[i], pKeys, zErr, sizeof(zErr)), SSOPROXY_OK );
    /* One bit of the signature: first, middle, last byte. */
    z = joseEdit(azTok[i], 2, 0, 0x01, 0, 0);
    CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
    ssoFree(z);
    z = joseEdit(azTok[i], 2, 31, 0x40, 0, 0);
    CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
    ssoFree(z);
    z = joseEdit(azTok[i], 2, -1, 0x80, 0, 0);
    CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
    ssoFree(z);
    /* One bit of the payload, inside "alice", so it still parses. */
    ssoB64DecodeAlloc(zBody, strlen(zBody), SSO_B64_URL, &a, &n, 0);
    iSub = (int)(strstr((char*)a, "alice") - (char*)a) + 4;
    z = joseEdit(azTok[i], 1, iSub, 0x01, 0, 0);
    CHECK( strstr(z, ".")!=0 );
    CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
    CHECK( strstr(zErr, "does not verify")!=0 );
    ssoFree(z);
    ssoFree(a);
    ssoFree(zBody);
  }
  ssoJwksFree(pKeys);
}

/* ---- Signature encodings and lengths ---- */

static void test_jose_es256_encoding(void){
  SsoJwks *pKeys = joseKeys(JOSE_JWKS);
  char zErr[200], *z;
  char zZero[ 90 ];
  unsigned char aZero[64];
  SsoJwt jwt;
  /* The DER form (what OpenSSL's ECDSA_sign makes) is refused. */
  CHECK_INT( ssoJwtDecode(JOSE_ES256_DER, strlen(JOSE_ES256_DER), &jwt, zErr,
                          sizeof(zErr)), SSOPROXY_OK );
  CHECK( jwt.nSig>=68 && jwt.nSig<=72 && jwt.aSig[0]==0x30 );
  CHECK_INT( ssoJwtVerify(&jwt, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  CHECK( strstr(zErr, "not 64")!=0 );
  ssoJwtFree(&jwt);
  /* 63 and 65 bytes. */
  z = joseEdit(JOSE_ES256, 2, 0, 0, 1, 0);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  CHECK( strstr(zErr, "63 bytes")!=0 );
  ssoFree(z);
  z = joseEdit(JOSE_ES256, 2, 0, 0, 0, 1);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  ssoFree(z);
  /* r = s = 0, the "psychic signature" (CVE-2022-21449). */
  memset(aZero, 0, sizeof(aZero));
  ssoB64EncodeTo(aZero, sizeof(aZero), SSO_B64_URL, zZero);
  z = joseMake("{\"alg\":\"ES256\",\"kid\":\"ec1\"}", JOSE_CLAIMS, zZero);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  CHECK( strstr(zErr, "does not verify")!=0 );
  ssoFree(z);
  ssoJwksFree(pKeys);
}

static void test_jose_rsa_sig_length(void){
  static const char *azTok[] = { JOSE_RS256, JOSE_PS256 };
  SsoJwks *pKeys = joseKeys(JOSE_JWKS);
  char zErr[200], *z;
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azTok); i++){
    z = joseEdit(azTok[i], 2, 0, 0, 1, 0);          /* 255 bytes */
    CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
    CHECK( strstr(zErr, "255 bytes, the key needs 256")!=0 );
    ssoFree(z);
    z = joseEdit(azTok[i], 2, 0, 0, 0, 1);          /* a zero byte ahead */
    CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
    CHECK( strstr(zErr, "257 bytes")!=0 );
    ssoFree(z);
  }
  /* Empty signature. */
  z = joseMake("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", JOSE_CLAIMS, "");
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  ssoFree(z);
  ssoJwksFree(pKeys);
}

/* PS256 needs a 32-byte salt: the PS256 token checked as RS256 fails and
** vice versa (the padding is checked, not just the hash). */
static void test_jose_rsa_padding(void){
  SsoJwks *pKeys = joseKeys(JOSE_JWKS);
  char zErr[200], *zSig, *z;
  zSig = josePart(JOSE_PS256, 2);
  z = joseMake("{\"alg\":\"RS256\",\"kid\":\"rsa1\"}", JOSE_CLAIMS, zSig);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  ssoFree(z);
  ssoFree(zSig);
  zSig = josePart(JOSE_RS256, 2);
  z = joseMake("{\"alg\":\"PS256\",\"kid\":\"rsa1\"}", JOSE_CLAIMS, zSig);
  CHECK_INT( joseCheck(z, pKeys, zErr, sizeof(zErr)), SSOPROXY_ERROR );
  ssoFree(z);
  ssoFree(zSig);
  ssoJwksFree(pKeys);
}

/* ---- Malformed compact serialisations ---- */

static void test_jose_decode_malformed(void){
  char *zHead = josePart(JOSE_RS256, 0);
  char *zBody = josePart(JOSE_RS256, 1);
  char *zSig = josePart(JOSE_RS256, 2);
  char *z;
  SsoBuf b;
  /* Parts. */
  JOSE_BAD_DECODE("", "1 part, not 3");
  JOSE_BAD_DECODE("abc", "1 part, not 3");
  JOSE_BAD_DECODE("eyJhbGciOiJSUzI1NiJ9.e30", "2 parts, not 3");
  ssoBufInit(&b, 0);
  ssoBufPrintf(&b, "%s.%s.%s.%s", zHead, zBody, zSig, zSig);
  JOSE_BAD_DECODE(ssoBufStr(&b), "more than 3 parts");
  ssoBufFree(&b);
  ssoBufInit(&b, 0);
  ssoBufPrintf(&b, "%s.%s.%s.%s.%s", zHead, zBody, zSig, zSig, zSig);
  JOSE_BAD_DECODE(ssoBufStr(&b), "more than 3 parts");
  ssoBufFree(&b);
  ssoBufInit(&b, 0);
  ssoBufPrintf(&b, ".%s.%s", zBody, zSig);
  JOSE_BAD_DECODE(ssoBufStr(&b), "header is empty");
  ssoBufFree(&b);
  ssoBufInit(&b, 0);
  ssoBufPrintf(&b, "%s..%s", zHead, zSig);
  JOSE_BAD_DECODE(ssoBufStr(&b), "payload is empty");
  ssoBufFree(&b);
  /* base64url: padding, the other alphabet, spaces, a bad length. The
  ** header {"alg":"RS256","kid":"rsa1","typ":"JWT"} encodes to a length
  ** that needs padding in standard base64. */
  ssoBufInit(&b, 0);
  ssoBufPrintf(&b, "%s=.%s.%s", zHead, zBody, zSig);
  JOSE_BAD_DECODE(ssoBufStr(&b), "header is not base64url");
  ssoBufFree(&b);
  ssoBufInit(&b, 0);
  ssoBufPrintf(&b, "%s.%s.%s=", zHead, zBody, zSig);
  JOSE_BAD_DECODE(ssoBufStr(&b), "signature is not base64url");
  ssoBufFree(&b);
  ssoBufInit(&b, 0);
  ssoBufPrintf(&b, "%s.%s.+%s", zHead, zBody, zSig+1);
  JOSE_BAD_DECODE(ssoBufStr(&b), "signature is not base64url (byte");
  ssoBufFree(&b);
  ssoBufInit(&b, 0);
  ssoBufPrintf(&b, "%s.%s /.%s", zHead, zBody, zSig);
  JOSE_BAD_DECODE(ssoBufStr(&b), "payload is not base64url");
  ssoBufFree(&b);
  /* 9 characters: no byte string encodes to a length of 4k+1. */
  JOSE_BAD_DECODE("eyJhbGciOiJSUzI1NiJ9.eyJhIjoxf.AAAA",
                  "payload is not base64url (byte 30 of the token)");
  /* Non-zero unused bits in the last character: not canonical. */
  JOSE_BAD_DECODE("eyJhbGciOiJSUzI1NiJ9.eyJhIjoxfR.AAAA",
                  "payload is not base64url");
  /* The offset points at the bad byte of the token. */
  {
    SsoJwt jwt;
    char zErr[200], zWant[64];
    ssoBufInit(&b, 0);
    ssoBufPrintf(&b, "%s.%s.%s", zHead, zBody, zSig);
    b.z[strlen(zHead) + 1 + 5] = '*';
    CHECK_INT( ssoJwtDecode(b.z, b.n, &jwt, zErr, sizeof(zErr)),
               SSOPROXY_PARSE );
    snprintf(zWant, sizeof(zWant), "(byte %zu of the token)",
             strlen(zHead) + 1 + 5);
    CHECK( strstr(zErr, zWant)!=0 );
    ssoBufFree(&b);
  }
  /* Header and payload content. */
  z = joseMake("[\"alg\",\"RS256\"]", JOSE_CLAIMS, zSig);
  JOSE_BAD_DECODE(z, "header is not a JSON object");
  ssoFree(z);
  z = joseMake("\"RS256\"", JOSE_CLAIMS, zSig);
  JOSE_BAD_DECODE(z, "header is not a JSON object");
  ssoFree(z);
  z = joseMake("{\"alg\":\"RS256\"", JOSE_CLAIMS, zSig);
  JOSE_BAD_DECODE(z, "header is not JSON");
  ssoFree(z);
  z = joseMake("{\"kid\":\"rsa1\"}", JOSE_CLAIMS, zSig);
  JOSE_BAD_DECODE(z, "header has no alg");
  ssoFree(z);
  z = joseMake("{\"alg\":256}", JOSE_CLAIMS, zSig);
  JOSE_BAD_DECODE(z, "header alg is not a string");
  ssoFree(z);
  z = joseMake("{\"alg\":\"RS\\u0000256\"}", JOSE_CLAIMS, zSig);
  JOSE_BAD_DECODE(z, "header alg is not a string");
  ssoFree(z);
  z = joseMake("{\"alg\":\"RS256RS256RS256RS\"}", JOSE_CLAIMS, zSig);
  JOSE_BAD_DECODE(z, "header alg is too long");
  ssoFree(z);
  z = joseMake("{\"alg\":\"RS256\",\"kid\":1}", JOSE_CLAIMS, zSig);
  JOSE_BAD_DECODE(z, "header kid is not a string");
  ssoFree(z);
  z = joseMake("{\"alg\":\"RS256\",\"crit\":[\"exp\"],\"exp\":1}",
               JOSE_CLAIMS, zSig);
  JOSE_BAD_DECODE(z, "header has crit");
  ssoFree(z);
  z = joseMake("{\"alg\":\"RS256\",\"b64\":false,\"crit\":[\"b64\"]}",
               JOSE_CLAIMS, zSig);
  JOSE_BAD_DECODE(z, "header has crit");
  ssoFree(z);
  z = joseMake("{\"alg\":\"RS256\",\"alg\":\"none\"}", JOSE_CLAIMS, zSig);
  JOSE_BAD_DECODE(z, "header is not JSON");
  ssoFree(z);
  z = joseMake("{\"alg\":\"RS256\"}", "[1]", zSig);
  JOSE_BAD_DECODE(z, "payload is not a JSON object");
  ssoFree(z);
  z = joseMake("{\"alg\":\"RS256\"}", "eyJ", zSig);
  JOSE_BAD_DECODE(z, "payload is not JSON");
  ssoFree(z);
  z = joseMake("{\"alg\":\"RS256\"}", "{\"sub\":\"a\",\"sub\":\"b\"}", zSig);
  JOSE_BAD_DECODE(z, "payload is not JSON");
  ssoFree(z);
  ssoFree(zHead);
  ssoFree(zBody);
  ssoFree(zSig);
}

/* The size limits: the whole token, and the signature. */
static void test_jose_decode_limits(void){
  SsoBuf b;
  SsoJwt jwt;
  char zErr[200], *zPad, *zSig, *z;
  size_t nPad;
  unsigned char aSig[SSO_JOSE_MAX_SIG + 1];
  /* A claims object that brings the token to exactly the limit, then
  ** one byte more. */
  for(nPad=SSO_JOSE_MAX_TOKEN*3/4 - 200; ; nPad++){
    ssoBufInit(&b, 0);
    ssoBufAppendStr(&b, "{\"p\":\"");
    while( b.n < nPad ) ssoBufAppendStr(&b, "x");
    ssoBufAppendStr(&b, "\"}");
    zPad = ssoBufFinish(&b, 0);
    z = joseMake("{\"alg\":\"RS256\"}", zPad, "AAAA");
    ssoFree(zPad);
    if( strlen(z)>=SSO_JOSE_MAX_TOKEN ) break;
    ssoFree(z);
  }
  if( strlen(z)==SSO_JOSE_MAX_TOKEN ){
    CHECK_INT( ssoJwtDecode(z, strlen(z), &jwt, zErr, sizeof(zErr)),
               SSOPROXY_OK );
    ssoJwtFree(&jwt);
    CHECK_INT( ssoJwtDecode(z, strlen(z)+1, &jwt, zErr, sizeof(zErr)),
               SSOPROXY_PARSE );
  }else{
    CHECK_INT( ssoJwtDecode(z, strlen(z), &jwt, zErr, sizeof(zErr)),
               SSOPROXY_PARSE );
  }
  CHECK( strstr(zErr, "over the limit of 16384")!=0 );
  ssoFree(z);
  /* A megabyte of token is refused before any decoding. */
  zPad = ssoMalloc(1u<<20);
  memset(zPad, 'A', 1u<<20);
  zPad[100] = '.';
  zPad[200] = '.';
  CHECK_INT( ssoJwtDecode(zPad, 1u<<20, &jwt, zErr, sizeof(zErr)),
             SSOPROXY_PARSE );
  CHECK( strstr(zErr, "1048576 bytes")!=0 );
  ssoFree(zPad);
  /* A signature of SSO_JOSE_MAX_SIG bytes decodes; one more does not. */
  memset(aSig, 0x5a, sizeof(aSig));
  zSig = ssoMalloc(ssoB64EncodedLen(sizeof(aSig), SSO_B64_URL) + 1);
  ssoB64EncodeTo(aSig, SSO_JOSE_MAX_SIG, SSO_B64_URL, zSig);
  z = joseMake("{\"alg\":\"RS256\"}", "{}", zSig);
  CHECK_INT( ssoJwtDecode(z, strlen(z), &jwt, zErr, sizeof(zErr)),
             SSOPROXY_OK );
  CHECK_INT( jwt.nSig, SSO_JOSE_MAX_SIG );
  ssoJwtFree(&jwt);
  ssoFree(z);
  ssoB64EncodeTo(aSig, sizeof(aSig), SSO_B64_URL, zSig);
  z = joseMake("{\"alg\":\"RS256\"}", "{}", zSig);
  JOSE_BAD_DECODE(z, "signature is over 1024 bytes");
  ssoFree(z);
  ssoFree(zSig);
}

/* ---- Key sets ---- */

static void test_jose_jwks_not_a_jwks(void){
  static const struct { const char *z; int rc; const char *zWant; } aCase[] = {
    { "", SSOPROXY_PARSE, "not JSON" },
    { "{\"keys\":[", SSOPROXY_PARSE, "not JSON" },
    { "[]", SSOPROXY_PARSE, "\"keys\" array" },
    { "{}", SSOPROXY_PARSE, "\"keys\" array" },
    { "{\"keys\":{}}", SSOPROXY_PARSE, "\"keys\" array" },
    { "{\"keys\":\"x\"}", SSOPROXY_PARSE, "\"keys\" array" },
    { "{\"keys\":[],\"keys\":[]}", SSOPROXY_PARSE, "not JSON" },
    { "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}", SSOPROXY_PARSE,
      "\"keys\" array" },
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(aCase); i++){
    static char cSentinel;
    SsoJwks *p = (SsoJwks*)&cSentinel;    /* Must be reset to NULL */
    char zErr[200];
    CHECK_INT( ssoJwksParse(aCase[i].z, strlen(aCase[i].z), &p, zErr,
                            sizeof(zErr)), aCase[i].rc );
    CHECK( p==0 );
    CHECK( strstr(zErr, aCase[i].zWant)!=0 );
  }
  /* An empty set is a set, with no usable key. */
  {
    SsoJwks *p = joseKeys("{\"keys\":[]}");
    CHECK_INT( ssoJwksCount(p), 0 );
    ssoJwksFree(p);
  }
  ssoJwksFree(0);
  CHECK_INT( ssoJwksCount(0), 0 );
}

static void test_jose_jwks_limits(void){
  SsoBuf b;
  SsoJwks *p = 0;
  char zErr[200];
  int i;
  /* SSO_JOSE_MAX_KEYS keys are fine, one more is not. */
  for(i=SSO_JOSE_MAX_KEYS; i<=SSO_JOSE_MAX_KEYS+1; i++){
    int k;
    ssoBufInit(&b, 0);
    ssoBufAppendStr(&b, "{\"keys\":[");
    for(k=0; k<i; k++) ssoBufAppendStr(&b, k ? ",{\"kty\":\"oct\"}" : "{\"kty\":\"oct\"}");
    ssoBufAppendStr(&b, "]}");
    CHECK_INT( ssoJwksParse(b.z, b.n, &p, zErr, sizeof(zErr)),
               i==SSO_JOSE_MAX_KEYS ? SSOPROXY_OK : SSOPROXY_TOOBIG );
    if( p ){
      CHECK_INT( ssoJwksSkipped(p), SSO_JOSE_MAX_KEYS );
      CHECK( strstr(ssoJwksSkipReason(p), "key 0: kty \"oct\"")!=0 );
    }else{
      CHECK( strstr(zErr, "65 keys")!=0 );
    }
    ssoJwksFree(p);
    ssoBufFree(&b);
  }
  /* Bytes: one past the limit, padded with JSON white space. */
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "{\"keys\":[]");
  while( b.n < SSO_JOSE_MAX_JWKS ) ssoBufAppendStr(&b, " ");
  ssoBufAppendStr(&b, "}");
  CHECK_INT( ssoJwksParse(b.z, b.n, &p, zErr, sizeof(zErr)), SSOPROXY_TOOBIG );
  CHECK( p==0 );
  CHECK_INT( ssoJwksParse(b.z+1, b.n-1, &p, zErr, sizeof(zErr)),
             SSOPROXY_PARSE );
  b.z[b.n-2] = '}';
  CHECK_INT( ssoJwksParse(b.z, b.n-1, &p, zErr, sizeof(zErr)), SSOPROXY_OK );
  ssoJwksFree(p);
  ssoBufFree(&b);
}

/* A JWK built from the A.2 key with one member replaced or added. */
static const char JOSE_A2_N[] =
  "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx"
  "HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs"
  "D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH"
  "SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV"
  "MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8"
  "NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";
static char *joseA2Key(const char *zExtra, const char *zN, const char *zE){
  SsoBuf b;
  ssoBufInit(&b, 0);
  ssoBufPrintf(&b, "{\"keys\":[{\"kty\":\"RSA\"%s%s,\"n\":\"%s\",\"e\":\"%s\"}]}",
               zExtra[0] ? "," : "", zExtra, zN ? zN : JOSE_A2_N, zE ? zE : "AQAB");
  return ssoBufFinish(&b, 0);
}

/* The count of usable keys in a one-key JWKS, and the skip reason. */
static int joseKeyCount(const char *zJwks, char *zWhy, size_t nWhy){
  SsoJwks *p = 0;
  char zErr[200];
  int n = -1;
  if( ssoJwksParse(zJwks, strlen(zJwks), &p, zErr, sizeof(zErr))==0 ){
    n = ssoJwksCount(p);
    CHECK_INT( ssoJwksSkipped(p), 1 - n );
    snprintf(zWhy, nWhy, "%s", ssoJwksSkipReason(p));
  }
  ssoJwksFree(p);
  return n;
}

#define JOSE_KEY_KEPT(zJwks) do{ char *zJ_ = (zJwks); char zW_[100]; \
    CHECK_INT( joseKeyCount(zJ_, zW_, sizeof(zW_)), 1 ); ssoFree(zJ_); }while(0)
#define JOSE_KEY_SKIPPED(zJwks, zWant) do{ char *zJ_ = (zJwks); char zW_[100]; \
    CHECK_INT( joseKeyCount(zJ_, zW_, sizeof(zW_)), 0 ); \
    if( strstr(zW_, zWant)==0 ){ tst.nCheckFail++; \
      fprintf(stderr, "  FAIL %s:%d: %s: reason \"%s\" lacks \"%s\"\n", \
              __FILE__, __LINE__, tst.zCase, zW_, zWant); } \
    ssoFree(zJ_); }while(0)

static void test_jose_jwks_rsa_keys(void){
  SsoJwks *pSmall = joseKeys(JOSE_JWKS_SMALL);
  char zErr[200], zBig[1400];
  unsigned char aBig[8193/8 + 1];
  /* The 1024-bit key is skipped, so its genuine token finds no key. */
  CHECK_INT( ssoJwksCount(pSmall), 0 );
  CHECK_INT( ssoJwksSkipped(pSmall), 1 );
  CHECK( strstr(ssoJwksSkipReason(pSmall), "1024 bits, not 2048..8192")!=0 );
  CHECK_INT( joseCheck(JOSE_RS256_SMALL, pSmall, zErr, sizeof(zErr)),
             SSOPROXY_NOTFOUND );
  ssoJwksFree(pSmall);
  JOSE_KEY_KEPT(joseA2Key("", 0, 0));
  JOSE_KEY_KEPT(joseA2Key("\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"k\"",
                          0, 0));
  JOSE_KEY_KEPT(joseA2Key("\"alg\":\"PS256\"", 0, 0));
  JOSE_KEY_KEPT(joseA2Key("\"key_ops\":[\"sign\",\"verify\"]", 0, 0));
  JOSE_KEY_KEPT(joseA2Key("\"x5c\":[\"MIIB\"],\"d\":\"AQAB\"", 0, 0));
  /* A leading zero byte on n and e is tolerated. */
  {
    unsigned char aN[300];
    char zN[420];
    size_t nN = 0;
    aN[0] = 0;
    CHECK_INT( ssoB64Decode(JOSE_A2_N, strlen(JOSE_A2_N), SSO_B64_URL, aN+1,
                            sizeof(aN)-1, &nN, 0), SSOPROXY_OK );
    ssoB64EncodeTo(aN, nN+1, SSO_B64_URL, zN);
    JOSE_KEY_KEPT(joseA2Key("", zN, "AAEAAQ"));
  }
  JOSE_KEY_SKIPPED(joseA2Key("\"use\":\"enc\"", 0, 0), "not for signatures");
  JOSE_KEY_SKIPPED(joseA2Key("\"use\":1", 0, 0), "not for signatures");
  JOSE_KEY_SKIPPED(joseA2Key("\"key_ops\":[\"encrypt\"]", 0, 0),
                   "not for signatures");
  JOSE_KEY_SKIPPED(joseA2Key("\"key_ops\":\"verify\"", 0, 0),
                   "not for signatures");
  JOSE_KEY_SKIPPED(joseA2Key("\"alg\":\"RSA-OAEP\"", 0, 0), "not usable");
  JOSE_KEY_SKIPPED(joseA2Key("\"alg\":\"HS256\"", 0, 0), "not usable");
  JOSE_KEY_SKIPPED(joseA2Key("\"alg\":\"ES256\"", 0, 0), "not usable");
  JOSE_KEY_SKIPPED(joseA2Key("\"alg\":null", 0, 0), "not usable");
  JOSE_KEY_SKIPPED(joseA2Key("\"kid\":7", 0, 0), "kid is not a string");
  JOSE_KEY_SKIPPED(joseA2Key("", "AQAB", 0), "17 bits");
  JOSE_KEY_SKIPPED(joseA2Key("", "ofgW+uLj", 0), "without a base64url n");
  JOSE_KEY_SKIPPED(joseA2Key("", 0, "AQAB=="), "without a base64url e");
  JOSE_KEY_SKIPPED(joseA2Key("", 0, "AQABAQABAQAB"), "exponent");
  JOSE_KEY_SKIPPED(joseA2Key("", 0, "AA"), "exponent of 0 bytes");
  JOSE_KEY_SKIPPED(joseA2Key("", 0, "Ag"), "RSA public key is invalid");
  /* Over 8192 bits: an odd 8193-bit number. */
  memset(aBig, 0xc5, sizeof(aBig));
  aBig[0] = 0x01;
  ssoB64EncodeTo(aBig, sizeof(aBig), SSO_B64_URL, zBig);
  JOSE_KEY_SKIPPED(joseA2Key("", zBig, 0), "8193 bits");
  JOSE_KEY_SKIPPED(joseA2Key("", "", 0), "0 bits");
  /* Members missing. */
  JOSE_KEY_SKIPPED(ssoStrdup("{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}"),
                   "without a base64url n");
  JOSE_KEY_SKIPPED(ssoStrdup("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\"}]}"),
                   "without a base64url e");
  JOSE_KEY_SKIPPED(ssoStrdup("{\"keys\":[7]}"), "not a JSON object");
  JOSE_KEY_SKIPPED(ssoStrdup("{\"keys\":[{\"n\":\"AQAB\"}]}"), "kty \"\"");
  JOSE_KEY_SKIPPED(ssoStrdup("{\"keys\":[{\"kty\":\"oct\",\"k\":\"AQAB\"}]}"),
                   "kty \"oct\"");
  JOSE_KEY_SKIPPED(ssoStrdup("{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\","
                             "\"x\":\"AQAB\"}]}"), "kty \"OKP\"");
  JOSE_KEY_SKIPPED(ssoStrdup("{\"keys\":[{\"kty\":\"rsa\"}]}"), "kty \"rsa\"");
}

/* An EC JWK for the A.3 key with x and y given (NULL: the A.3 ones). */
static char *joseA3Key(const char *zExtra, const char *zX, const char *zY){
  SsoBuf b;
  ssoBufInit(&b, 0);
  ssoBufPrintf(&b, "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\"%s%s,"
               "\"x\":\"%s\",\"y\":\"%s\"}]}", zExtra[0] ? "," : "", zExtra,
               zX ? zX : "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
               zY ? zY : "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
  return ssoBufFinish(&b, 0);
}

static void test_jose_jwks_ec_keys(void){
  JOSE_KEY_KEPT(joseA3Key("", 0, 0));
  JOSE_KEY_KEPT(joseA3Key("\"alg\":\"ES256\",\"use\":\"sig\"", 0, 0));
  /* One bit of y changed: no longer on the curve. */
  JOSE_KEY_SKIPPED(joseA3Key("", 0,
                   "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWJ5a0"),
                   "not on P-256");
  /* x = y = 0 and a coordinate equal to p are not points either. */
  JOSE_KEY_SKIPPED(joseA3Key("", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                   "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "not on P-256");
  JOSE_KEY_SKIPPED(joseA3Key("", "_____wAAAAEAAAAAAAAAAAAAAAD_______________8",
                   0), "not on P-256");
  /* Coordinates of the wrong size (31 and 33 bytes). */
  JOSE_KEY_SKIPPED(joseA3Key("", "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVA",
                   0), "32-byte base64url x");
  JOSE_KEY_SKIPPED(joseA3Key("", 0,
                   "AMfxRM0bvZt-hyzf7bnuufSzaV1uqQskrYpGIyiFiOWt"),
                   "32-byte base64url y");
  JOSE_KEY_SKIPPED(joseA3Key("\"alg\":\"RS256\"", 0, 0), "not usable");
  JOSE_KEY_SKIPPED(joseA3Key("\"alg\":\"ES384\"", 0, 0), "not usable");
  JOSE_KEY_SKIPPED(joseA3Key("\"use\":\"enc\"", 0, 0), "not for signatures");
  JOSE_KEY_SKIPPED(ssoStrdup("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-384\","
                   "\"x\":\"AQAB\",\"y\":\"AQAB\"}]}"), "\"P-384\" is not");
  JOSE_KEY_SKIPPED(ssoStrdup("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"secp256k1\","
                   "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                   "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}"),
                   "is not P-256");
  JOSE_KEY_SKIPPED(ssoStrdup("{\"keys\":[{\"kty\":\"EC\","
                   "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                   "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}"),
                   "is not P-256");
  JOSE_KEY_SKIPPED(ssoStrdup("{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\","
                   "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"}]}"),
                   "32-byte base64url y");
}

/* A set mixing usable and skipped keys keeps the usable ones, in order,
** and they verify. */
static void test_jose_jwks_mixed(void){
  SsoBuf b;
  SsoJwks *p;
  char zErr[200];
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AQAB\"},");
  ssoBufAppend(&b, JOSE_RFC_A3_JWKS + 9, strlen(JOSE_RFC_A3_JWKS) - 11);
  ssoBufAppendStr(&b, ",{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\","
                  "\"e\":\"AQAB\"},");
  ssoBufAppend(&b, JOSE_RFC_A2_JWKS + 9, strlen(JOSE_RFC_A2_JWKS) - 11);
  ssoBufAppendStr(&b, "],\"extra\":{\"ignored\":true}}");
  p = joseKeys(ssoBufStr(&b));
  CHECK_INT( ssoJwksCount(p), 2 );
  CHECK_INT( ssoJwksSkipped(p), 2 );
  CHECK_INT( joseCheck(JOSE_RFC_A2, p, zErr, sizeof(zErr)), SSOPROXY_OK );
  CHECK_INT( joseCheck(JOSE_RFC_A3, p, zErr, sizeof(zErr)), SSOPROXY_OK );
  ssoJwksFree(p);
  ssoBufFree(&b);
}

/* ---- Claims ---- */

/* Check the claims zBody at tNow with the usual expectations (changed by
** the caller through pE when not NULL); returns the result. */
static int joseClaims(const char *zBody, const SsoJwtExpect *pE,
                      char *zErr, size_t nErr){
  SsoJwtExpect e;
  SsoJwt jwt;
  char *z = joseMake("{\"alg\":\"RS256\"}", zBody, "");
  int rc;
  if( pE ){
    e = *pE;
  }else{
    memset(&e, 0, sizeof(e));
    e.zIss = "https://idp.example";
    e.zAud = "ssoproxy-test";
    e.zNonce = "n-0S6_WzA2Mj";
    e.tNow = JOSE_NOW;
    e.msSkew = 60000;
  }
  rc = ssoJwtDecode(z, strlen(z), &jwt, zErr, nErr);
  CHECK_INT( rc, SSOPROXY_OK );
  if( rc==SSOPROXY_OK ) rc = ssoJwtCheckClaims(&jwt, &e, zErr, nErr);
  ssoJwtFree(&jwt);
  ssoFree(z);
  return rc;
}

static SsoJwtExpect joseExpect(void){
  SsoJwtExpect e;
  memset(&e, 0, sizeof(e));
  e.zIss = "https://idp.example";
  e.zAud = "ssoproxy-test";
  e.zNonce = "n-0S6_WzA2Mj";
  e.tNow = JOSE_NOW;
  e.msSkew = 60000;
  return e;
}

/* The claims must fail with a message holding zWant. */
#define JOSE_BAD_CLAIMS(zBody, pE, zWant) do{ char zE_[200]; \
    CHECK_INT( joseClaims(zBody, pE, zE_, sizeof(zE_)), SSOPROXY_ERROR ); \
    if( strstr(zE_, zWant)==0 ){ tst.nCheckFail++; \
      fprintf(stderr, "  FAIL %s:%d: %s: message \"%s\" lacks \"%s\"\n", \
              __FILE__, __LINE__, tst.zCase, zE_, zWant); } }while(0)
#define JOSE_GOOD_CLAIMS(zBody, pE) do{ char zE_[200]; \
    int rc_ = joseClaims(zBody, pE, zE_, sizeof(zE_)); \
    if( rc_ ) fprintf(stderr, "  claims: %s\n", zE_); \
    CHECK_INT( rc_, SSOPROXY_OK ); }while(0)

/* A claims object: the usual members with one replaced or dropped
** (zName's value zVal, or dropped when zVal is NULL), plus zExtra. */
static char *joseBody(const char *zName, const char *zVal, const char *zExtra){
  static const char *azDef[][2] = {
    { "iss", "\"https://idp.example\"" }, { "aud", "\"ssoproxy-test\"" },
    { "sub", "\"alice\"" }, { "nonce", "\"n-0S6_WzA2Mj\"" },
    { "iat", "1700000000" }, { "exp", "1700003600" },
  };
  SsoBuf b;
  size_t i;
  int bFirst = 1;
  ssoBufInit(&b, 0);
  ssoBufAppendStr(&b, "{");
  for(i=0; i<SSO_ARRAYSIZE(azDef); i++){
    const char *zV = azDef[i][1];
    if( zName && strcmp(zName, azDef[i][0])==0 ){
      if( zVal==0 ) continue;
      zV = zVal;
    }
    ssoBufPrintf(&b, "%s\"%s\":%s", bFirst ? "" : ",", azDef[i][0], zV);
    bFirst = 0;
  }
  if( zExtra ) ssoBufPrintf(&b, ",%s", zExtra);
  ssoBufAppendStr(&b, "}");
  return ssoBufFinish(&b, 0);
}

#define JOSE_BAD(zName, zVal, zExtra, pE, zWant) do{ \
    char *zB_ = joseBody(zName, zVal, zExtra); \
    JOSE_BAD_CLAIMS(zB_, pE, zWant); ssoFree(zB_); }while(0)
#define JOSE_GOOD(zName, zVal, zExtra, pE) do{ \
    char *zB_ = joseBody(zName, zVal, zExtra); \
    JOSE_GOOD_CLAIMS(zB_, pE); ssoFree(zB_); }while(0)

static void test_jose_claims_ok(void){
  SsoJwtExpect e = joseExpect();
  char zErr[200];
  JOSE_GOOD_CLAIMS(JOSE_CLAIMS, 0);
  JOSE_GOOD(0, 0, 0, 0);
  /* No nonce expected: a token with one is fine, and one without. */
  e.zNonce = 0;
  JOSE_GOOD(0, 0, 0, &e);
  JOSE_GOOD("nonce", 0, 0, &e);
  /* No issuer given: not checked. */
  e = joseExpect();
  e.zIss = 0;
  JOSE_GOOD("iss", "\"https://other.example\"", 0, &e);
  /* No client id: a programming error. */
  e = joseExpect();
  e.zAud = 0;
  CHECK_INT( joseClaims(JOSE_CLAIMS, &e, zErr, sizeof(zErr)),
             SSOPROXY_MISUSE );
  /* Dates with a fraction. */
  JOSE_GOOD("exp", "1700003600.25", 0, 0);
  JOSE_GOOD("iat", "1.7e9", 0, 0);
}

static void test_jose_claims_iss(void){
  JOSE_BAD("iss", "\"https://idp.example/\"", 0, 0,
           "iss \"https://idp.example/\" is not the issuer"
           " \"https://idp.example\"");
  JOSE_BAD("iss", "\"https://idp.exampl\"", 0, 0, "iss");
  JOSE_BAD("iss", "\"https://idp.example\\u0000\"", 0, 0, "iss");
  JOSE_BAD("iss", "[\"https://idp.example\"]", 0, 0, "iss");
  JOSE_BAD("iss", 0, 0, 0, "iss \"\" is not the issuer");
}

static void test_jose_claims_aud(void){
  JOSE_BAD("aud", 0, 0, 0, "aud is missing");
  JOSE_BAD("aud", "\"other-client\"", 0, 0, "aud does not include");
  JOSE_BAD("aud", "\"ssoproxy-tes\"", 0, 0, "aud does not include");
  JOSE_BAD("aud", "\"ssoproxy-test \"", 0, 0, "aud does not include");
  JOSE_BAD("aud", "[\"other-client\"]", 0, 0, "aud does not include");
  JOSE_BAD("aud", "[]", 0, 0, "aud does not include");
  JOSE_BAD("aud", "7", 0, 0, "aud is not a string or an array");
  JOSE_BAD("aud", "[\"ssoproxy-test\",7]", 0, 0,
           "aud is not a string or an array");
  /* In an array: alone it needs no azp; with others it does. */
  JOSE_GOOD("aud", "[\"ssoproxy-test\"]", 0, 0);
  JOSE_BAD("aud", "[\"ssoproxy-test\",\"other-client\"]", 0, 0,
           "azp is missing and aud has 2 values");
  JOSE_GOOD("aud", "[\"other-client\",\"ssoproxy-test\"]",
            "\"azp\":\"ssoproxy-test\"", 0);
  JOSE_BAD("aud", "[\"other-client\",\"ssoproxy-test\"]",
           "\"azp\":\"other-client\"", 0, "azp is not our client id");
  /* azp, when present, must be us even with one audience. */
  JOSE_GOOD(0, 0, "\"azp\":\"ssoproxy-test\"", 0);
  JOSE_BAD(0, 0, "\"azp\":\"other-client\"", 0, "azp is not our client id");
  JOSE_BAD(0, 0, "\"azp\":null", 0, "azp is not our client id");
}

static void test_jose_claims_times(void){
  SsoJwtExpect e = joseExpect();
  /* exp 1700003600 s with 60 s of skew: fine until the last ms. */
  e.tNow = 1700003600000LL + 60000 - 1;
  JOSE_GOOD(0, 0, 0, &e);
  e.tNow = 1700003600000LL + 60000;
  JOSE_BAD(0, 0, 0, &e, "exp: token expired 60 s ago");
  e.tNow = 1700003600000LL;
  e.msSkew = 0;
  JOSE_BAD(0, 0, 0, &e, "exp: token expired");
  e.tNow = 1700003600000LL - 1;
  JOSE_GOOD(0, 0, 0, &e);
  /* A fraction of a second counts. */
  e.tNow = 1700003600200LL;
  JOSE_GOOD("exp", "1700003600.25", 0, &e);
  JOSE_BAD("exp", "1700003600.2", 0, &e, "exp");
  JOSE_BAD("exp", 0, 0, 0, "exp is missing");
  JOSE_BAD("exp", "\"1700003600\"", 0, 0, "exp is not a date");
  JOSE_BAD("exp", "-1", 0, 0, "exp is not a date");
  JOSE_BAD("exp", "1e300", 0, 0, "exp is not a date");
  JOSE_BAD("exp", "null", 0, 0, "exp is not a date");
  /* iat in the future, beyond the skew and just within it. */
  e = joseExpect();
  JOSE_BAD("iat", "1700000161", 0, &e, "iat: token issued 61 s in the future");
  JOSE_GOOD("iat", "1700000160", 0, &e);
  JOSE_BAD("iat", 0, 0, 0, "iat is missing");
  JOSE_BAD("iat", "true", 0, 0, "iat is not a date");
  /* nbf, when present. */
  JOSE_GOOD(0, 0, "\"nbf\":1700000160", &e);
  JOSE_BAD(0, 0, "\"nbf\":1700000161", &e, "nbf: token not valid for 61 s");
  JOSE_BAD(0, 0, "\"nbf\":\"soon\"", &e, "nbf is not a date");
  /* The age limit (plus the skew). */
  e.tNow = 1700000000000LL + 600000 + 60000;
  e.msMaxAge = 600000;
  JOSE_GOOD(0, 0, 0, &e);
  e.tNow++;
  JOSE_BAD(0, 0, 0, &e, "iat: token issued 660 s ago, over the limit of 600 s");
  e.msMaxAge = 0;
  JOSE_GOOD(0, 0, 0, &e);
}

static void test_jose_claims_nonce(void){
  SsoJwtExpect e = joseExpect();
  char zErr[200];
  JOSE_BAD("nonce", 0, 0, 0, "nonce is missing");
  JOSE_BAD("nonce", "42", 0, 0, "nonce is missing or not a string");
  JOSE_BAD("nonce", "\"n-0S6_WzA2Mk\"", 0, 0, "nonce does not match");
  JOSE_BAD("nonce", "\"n-0S6_WzA2M\"", 0, 0, "nonce does not match");
  JOSE_BAD("nonce", "\"n-0S6_WzA2Mj\\u0000\"", 0, 0, "nonce does not match");
  JOSE_BAD("nonce", "\"\"", 0, 0, "nonce does not match");
  /* The message never shows either nonce. */
  e.zNonce = "secret-nonce-value";
  CHECK_INT( joseClaims(JOSE_CLAIMS, &e, zErr, sizeof(zErr)),
             SSOPROXY_ERROR );
  CHECK( strstr(zErr, "secret")==0 && strstr(zErr, "n-0S6")==0 );
}

static void test_jose_claims_sub(void){
  char zSub[300];
  JOSE_BAD("sub", 0, 0, 0, "sub is missing");
  JOSE_BAD("sub", "\"\"", 0, 0, "sub is not a non-empty string");
  JOSE_BAD("sub", "42", 0, 0, "sub is not a non-empty string");
  JOSE_BAD("sub", "\"al\\u0000ice\"", 0, 0, "sub is not a non-empty string");
  memset(zSub, 'a', sizeof(zSub));
  zSub[0] = '"';
  zSub[SSO_JOSE_MAX_SUB+1] = '"';
  zSub[SSO_JOSE_MAX_SUB+2] = 0;
  JOSE_GOOD("sub", zSub, 0, 0);
  zSub[SSO_JOSE_MAX_SUB+1] = 'a';
  zSub[SSO_JOSE_MAX_SUB+2] = '"';
  zSub[SSO_JOSE_MAX_SUB+3] = 0;
  JOSE_BAD("sub", zSub, 0, 0, "sub is over 255 bytes");
}

/* ---- Out of memory ---- */

typedef struct JoseOomArg JoseOomArg;
struct JoseOomArg {
  const char *zJwks;
  const char *zTok;
};
static int joseOomBody(void *pArg){
  JoseOomArg *a = pArg;
  SsoJwks *pKeys = 0;
  SsoJwt jwt;
  SsoJwtExpect e = joseExpect();
  char zErr[200];
  int rc = ssoJwksParse(a->zJwks, strlen(a->zJwks), &pKeys, zErr,
                        sizeof(zErr));
  memset(&jwt, 0, sizeof(jwt));
  if( rc==SSOPROXY_OK ){
    rc = ssoJwtDecode(a->zTok, strlen(a->zTok), &jwt, zErr, sizeof(zErr));
  }
  if( rc==SSOPROXY_OK ) rc = ssoJwtVerify(&jwt, pKeys, zErr, sizeof(zErr));
  if( rc==SSOPROXY_OK ) rc = ssoJwtCheckClaims(&jwt, &e, zErr, sizeof(zErr));
  if( rc==SSOPROXY_NOMEM && strcmp(zErr, "out of memory")!=0 ) rc = -1;
  if( rc==SSOPROXY_OK && ssoJwksCount(pKeys)!=5 ) rc = -1;
  ssoJwtFree(&jwt);
  ssoJwksFree(pKeys);
  return rc;
}
static int joseOomCheck(void *pArg, int rc, int bFaulted){
  SSO_UNUSED(pArg);
  return bFaulted ? rc==SSOPROXY_NOMEM : rc==SSOPROXY_OK;
}
static void test_jose_oom(void){
  static const char *azTok[] = {
    JOSE_RS256, JOSE_PS256, JOSE_ES256, JOSE_RS256_NOKID,
  };
  size_t i;
  for(i=0; i<SSO_ARRAYSIZE(azTok); i++){
    JoseOomArg a;
    a.zJwks = JOSE_JWKS;
    a.zTok = azTok[i];
    CHECK_INT( joseOomBody(&a), SSOPROXY_OK );
    CHECK( faultRun(joseOomBody, joseOomCheck, &a)>5 );
  }
}

/* ---- Threads ---- */

typedef struct JoseThread JoseThread;
struct JoseThread {
  pthread_t tid;
  const SsoJwks *pKeys;
  int nOk;
};
static void *joseThreadMain(void *pArg){
  JoseThread *t = pArg;
  static const char *azTok[] = { JOSE_RS256, JOSE_PS256, JOSE_ES256 };
  int i;
  for(i=0; i<30; i++){
    char zErr[200];
    if( joseCheck(azTok[i%3], t->pKeys, zErr, sizeof(zErr))==SSOPROXY_OK ){
      t->nOk++;
    }
  }
  return 0;
}
/* One key set, read by four threads at once (run it under the sanitizers
** or helgrind to see there is nothing to race on). */
static void test_jose_threads(void){
  SsoJwks *pKeys = joseKeys(JOSE_JWKS);
  JoseThread aT[4];
  int i;
  for(i=0; i<4; i++){
    aT[i].pKeys = pKeys;
    aT[i].nOk = 0;
    CHECK( pthread_create(&aT[i].tid, 0, joseThreadMain, &aT[i])==0 );
  }
  for(i=0; i<4; i++){
    pthread_join(aT[i].tid, 0);
    CHECK_INT( aT[i].nOk, 30 );
  }
  ssoJwksFree(pKeys);
}

static const TestCase aJoseTests[] = {
  TEST_CASE(test_jose_rfc7515_a2),
  TEST_CASE(test_jose_rfc7515_a3),
  TEST_CASE(test_jose_fresh_tokens),
  TEST_CASE(test_jose_alg_refused),
  TEST_CASE(test_jose_hs256_confusion),
  TEST_CASE(test_jose_kid_unknown),
  TEST_CASE(test_jose_nokid_several),
  TEST_CASE(test_jose_kid_unfit),
  TEST_CASE(test_jose_tampered),
  TEST_CASE(test_jose_es256_encoding),
  TEST_CASE(test_jose_rsa_sig_length),
  TEST_CASE(test_jose_rsa_padding),
  TEST_CASE(test_jose_decode_malformed),
  TEST_CASE(test_jose_decode_limits),
  TEST_CASE(test_jose_jwks_not_a_jwks),
  TEST_CASE(test_jose_jwks_limits),
  TEST_CASE(test_jose_jwks_rsa_keys),
  TEST_CASE(test_jose_jwks_ec_keys),
  TEST_CASE(test_jose_jwks_mixed),
  TEST_CASE(test_jose_claims_ok),
  TEST_CASE(test_jose_claims_iss),
  TEST_CASE(test_jose_claims_aud),
  TEST_CASE(test_jose_claims_times),
  TEST_CASE(test_jose_claims_nonce),
  TEST_CASE(test_jose_claims_sub),
  TEST_CASE(test_jose_oom),
  TEST_CASE(test_jose_threads),
};
