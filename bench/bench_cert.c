/*
 * bench_cert.c — a throw-away certificate for the built-in HTTPS target,
 * made with the OpenSSL API (fh-bench links OpenSSL already, so the openssl
 * command line is not needed): a P-256 key, self-signed, valid for two
 * days, for IP 127.0.0.1 and DNS localhost. fasthttp and libcurl trust it
 * as their only CA (it is its own issuer); h2load does not verify.
 */
#include "bench.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>

static int add_ext(X509 *crt, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, crt, crt, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(crt, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static int write_pem(const char *path, EVP_PKEY *key, X509 *crt)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_X509(f, crt);
    return fclose(f) == 0 && ok ? 0 : -1;
}

int bench_make_cert(const char *cert_path, const char *key_path)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *crt = X509_new();
    X509_NAME *name = crt ? X509_get_subject_name(crt) : NULL;
    int rc = -1;
    if (key && crt && name && X509_set_version(crt, 2) &&
        ASN1_INTEGER_set(X509_get_serialNumber(crt), 1) &&
        X509_gmtime_adj(X509_getm_notBefore(crt), -3600) &&
        X509_gmtime_adj(X509_getm_notAfter(crt), 2 * 86400) && X509_set_pubkey(crt, key) &&
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1",
                                   -1, -1, 0) &&
        X509_set_issuer_name(crt, name) &&
        /* fasthttp matches host names against subjectAltName only */
        add_ext(crt, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") == 0 &&
        add_ext(crt, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
        add_ext(crt, NID_subject_key_identifier, "hash") == 0 &&
        X509_sign(crt, key, EVP_sha256()) > 0 && write_pem(cert_path, NULL, crt) == 0 &&
        write_pem(key_path, key, NULL) == 0)
        rc = 0;
    X509_free(crt);
    EVP_PKEY_free(key);
    return rc;
}
