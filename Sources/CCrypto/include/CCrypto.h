#ifndef FERRY_CCRYPTO_H
#define FERRY_CCRYPTO_H
// OpenSSL's libcrypto: Swift calls the EVP functions directly; this header only gathers them.
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#endif
