#ifndef FERRY_CCURL_H
#define FERRY_CCURL_H

#include <curl/curl.h>

// curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic, which Swift cannot call.
// One typed wrapper per argument type; they can go if libcurl ever grows typed setters.
CURLcode CCurl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode CCurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode CCurl_easy_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode CCurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode CCurl_easy_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t length);

typedef size_t (*CCurl_data_callback)(char *buffer, size_t size, size_t count, void *userdata);
typedef int (*CCurl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                       curl_off_t ultotal, curl_off_t ulnow);
CURLcode CCurl_easy_setopt_data_callback(CURL *handle, CURLoption option, CCurl_data_callback callback);
CURLcode CCurl_easy_setopt_xferinfo_callback(CURL *handle, CCurl_xferinfo_callback callback);

CURLcode CCurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode CCurl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode CCurl_easy_getinfo_ptr(CURL *handle, CURLINFO info, void **value);
CURLcode CCurl_easy_getinfo_string(CURL *handle, CURLINFO info, char **value);

CURLMcode CCurl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

// CURL_WRITEFUNC_PAUSE and friends are macros of casts Swift does not import.
static inline size_t CCurl_writefunc_pause(void) { return CURL_WRITEFUNC_PAUSE; }
static inline size_t CCurl_readfunc_pause(void) { return CURL_READFUNC_PAUSE; }
static inline size_t CCurl_readfunc_abort(void) { return CURL_READFUNC_ABORT; }

#endif
