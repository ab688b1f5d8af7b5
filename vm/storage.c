/* Tag disks and base images as volumes of a libvirt storage pool (see
 * storage.h). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libvirt/virterror.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/domain.h"
#include "vm/paths.h"
#include "vm/storage.h"

/* Stream chunks: large enough to keep ssh busy, small enough for a
 * progress bar that moves. */
#define CHUNK (1u << 20)
/* A base manifest is a few hundred bytes; anything far bigger is not ours. */
#define MANIFEST_MAX (64u * 1024)
#define CMDLINE_MAX 4096
#define HEX_SHA256 (2 * SHA256_DIGEST_SIZE + 1)

static void fail(char *error, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(char *error, size_t size, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	vsnprintf(error, size, fmt, args);
	va_end(args);
	bh_log(BH_LOG_DEBUG, "%s", error);
}

static const char *libvirt_message(void)
{
	const char *msg = virGetLastErrorMessage();
	return msg != NULL ? msg : "unknown libvirt error";
}

/* The text of the first <tag>...</tag> after from in xml, into out: a
 * path libvirt wrote. Refused when it does not fit, holds an XML escape
 * (no name of ours needs one) or control characters. */
static bool xml_text(const char *xml, const char *from, const char *tag, char *out, size_t size)
{
	const char *start = from != NULL ? strstr(xml, from) : xml;
	char open[64], close[64];
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	start = start != NULL ? strstr(start, open) : NULL;
	const char *end = start != NULL ? strstr(start, close) : NULL;
	if (end == NULL) {
		return false;
	}
	start += strlen(open);
	size_t len = (size_t)(end - start);
	if (len == 0 || len >= size || memchr(start, '&', len) != NULL) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)start[i] < 0x20) {
			return false;
		}
	}
	memcpy(out, start, len);
	out[len] = '\0';
	return true;
}

virStoragePoolPtr bh_storage_pool(virConnectPtr conn, const char *uri, const char *name,
	const char *path, char *error, size_t error_size)
{
	virStoragePoolPtr pool = virStoragePoolLookupByName(conn, name);
	if (pool == NULL) {
		virResetLastError();
		char local[PATH_MAX];
		if (path == NULL) {
			if (strstr(uri, ":///") == NULL) {
				fail(error, error_size,
					"the storage pool \"%s\" is missing on %s: set pool_path = "
					"(a directory on that machine, e.g. its user's "
					"~/.local/share/bulkhead/pool) for bulkhead to make it, or "
					"define it with `virsh -c '%s' pool-define-as %s dir "
					"--target "
					"DIR`",
					name, uri, uri, name);
				return NULL;
			}
			if (!bh_paths_pool_root(local, sizeof(local))) {
				fail(error, error_size,
					"cannot place the storage pool \"%s\": neither "
					"XDG_DATA_HOME nor HOME is set",
					name);
				return NULL;
			}
			path = local;
		}
		char *xml = NULL;
		size_t xml_len = 0;
		FILE *f = open_memstream(&xml, &xml_len);
		if (f == NULL) {
			fail(error, error_size, "out of memory");
			return NULL;
		}
		fprintf(f, "<pool type='dir'>\n  <name>");
		bh_xml_escape(f, name);
		fprintf(f, "</name>\n  <target>\n    <path>");
		bh_xml_escape(f, path);
		fprintf(f, "</path>\n    <permissions><mode>0700</mode></permissions>\n"
			   "  </target>\n</pool>\n");
		fclose(f);
		pool = virStoragePoolDefineXML(conn, xml, 0);
		free(xml);
		if (pool == NULL) {
			char why[512];
			snprintf(why, sizeof(why), "%s", libvirt_message());
			/* Another start on that host may have defined it meanwhile. */
			pool = virStoragePoolLookupByName(conn, name);
			if (pool == NULL) {
				fail(error, error_size,
					"cannot define the storage pool \"%s\" at %s on %s: %s "
					"(check "
					"pool_path =)",
					name, path, uri, why);
				return NULL;
			}
		}
		bh_log(BH_LOG_INFO, "defined the storage pool %s at %s on %s", name, path, uri);
		/* Build makes its directory (an existing one is kept as it is). */
		if (virStoragePoolBuild(pool, 0) != 0) {
			bh_log(BH_LOG_DEBUG, "pool %s: build: %s", name, libvirt_message());
			virResetLastError();
		}
		virStoragePoolSetAutostart(pool, 1);
	}
	if (virStoragePoolIsActive(pool) != 1 && virStoragePoolCreate(pool, 0) != 0) {
		fail(error, error_size,
			"the storage pool \"%s\" on %s does not start: %s (check it with "
			"`virsh -c '%s' pool-info %s`)",
			name, uri, libvirt_message(), uri, name);
		virStoragePoolFree(pool);
		return NULL;
	}
	/* Files another client made (or a console log qemu wrote) become
	 * volumes only with a refresh. */
	if (virStoragePoolRefresh(pool, 0) != 0) {
		bh_log(BH_LOG_WARN, "storage pool %s on %s: refresh failed: %s", name, uri,
			libvirt_message());
	}
	return pool;
}

bool bh_storage_base_volume(const char *id, const char *part, char *out, size_t size)
{
	int n = snprintf(out, size, "base-%s-%s", id, part);
	return n > 0 && (size_t)n < size;
}

bool bh_storage_tag_volume(const char *tag, const char *part, char *out, size_t size)
{
	char dir[BH_TAG_DIRNAME_SIZE];
	if (!bh_tag_dirname(tag, dir, NULL)) {
		return false;
	}
	int n = snprintf(out, size, "tag-%s-%s", dir, part);
	return n > 0 && (size_t)n < size;
}

bool bh_storage_tag_of_volume(const char *name, char tag[BH_TAG_MAX + 1])
{
	static const char *const parts[] = {"-root.qcow2", "-home.qcow2", NULL};
	if (strncmp(name, "tag-", 4) != 0) {
		return false;
	}
	size_t len = strlen(name);
	for (int i = 0; parts[i] != NULL; i++) {
		size_t plen = strlen(parts[i]);
		if (len > 4 + plen && strcmp(name + len - plen, parts[i]) == 0 &&
			len - 4 - plen < BH_TAG_DIRNAME_SIZE) {
			char dir[BH_TAG_DIRNAME_SIZE];
			memcpy(dir, name + 4, len - 4 - plen);
			dir[len - 4 - plen] = '\0';
			return bh_tag_from_dirname(dir, tag);
		}
	}
	return false;
}

bool bh_storage_base_of_root(const char *path, char id[BH_BASE_ID_SIZE])
{
	const char *slash = path != NULL ? strrchr(path, '/') : NULL;
	const char *name = slash != NULL ? slash + 1 : path;
	const char *suffix = "-root.qcow2";
	if (name == NULL || strncmp(name, "base-", 5) != 0) {
		return false;
	}
	size_t len = strlen(name), slen = strlen(suffix);
	if (len <= 5 + slen || strcmp(name + len - slen, suffix) != 0 ||
		len - 5 - slen >= BH_BASE_ID_SIZE) {
		return false;
	}
	memcpy(id, name + 5, len - 5 - slen);
	id[len - 5 - slen] = '\0';
	return true;
}

static virStorageVolPtr volume(virStoragePoolPtr pool, const char *name)
{
	virStorageVolPtr vol = virStorageVolLookupByName(pool, name);
	if (vol == NULL) {
		virResetLastError();
	}
	return vol;
}

bool bh_storage_volume_path(virStoragePoolPtr pool, const char *name, char *out, size_t size)
{
	virStorageVolPtr vol = volume(pool, name);
	char *path = vol != NULL ? virStorageVolGetPath(vol) : NULL;
	bool ok = path != NULL && strlen(path) < size;
	if (ok) {
		strcpy(out, path);
	}
	free(path);
	if (vol != NULL) {
		virStorageVolFree(vol);
	}
	return ok;
}

bool bh_storage_pool_path(virStoragePoolPtr pool, char *out, size_t size)
{
	char *xml = virStoragePoolGetXMLDesc(pool, 0);
	bool ok = xml != NULL && xml_text(xml, "<target>", "path", out, size) && out[0] == '/';
	free(xml);
	return ok;
}

static bool create_volume(
	virStoragePoolPtr pool, const char *name, const char *xml, char *error, size_t error_size)
{
	virStorageVolPtr vol = virStorageVolCreateXML(pool, xml, 0);
	if (vol == NULL) {
		fail(error, error_size, "cannot create the volume %s in the storage pool %s: %s",
			name, virStoragePoolGetName(pool), libvirt_message());
		return false;
	}
	virStorageVolFree(vol);
	return true;
}

/* <volume> XML: name, and capacity unless 0 (an overlay takes its
 * backing's), format, and backing when not NULL. */
static char *volume_xml(
	const char *name, uint64_t capacity, const char *format, const char *backing)
{
	char *xml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&xml, &len);
	if (f == NULL) {
		return NULL;
	}
	fprintf(f, "<volume>\n  <name>");
	bh_xml_escape(f, name);
	fprintf(f, "</name>\n");
	if (capacity > 0 || backing == NULL) {
		fprintf(f, "  <capacity unit='bytes'>%llu</capacity>\n",
			(unsigned long long)capacity);
	}
	fprintf(f,
		"  <allocation unit='bytes'>0</allocation>\n  <target>\n"
		"    <format type='%s'/>\n    <permissions><mode>0600</mode></permissions>\n",
		format);
	if (strcmp(format, "qcow2") == 0) {
		fprintf(f, "    <compat>1.1</compat>\n");
	}
	fprintf(f, "  </target>\n");
	if (backing != NULL) {
		fprintf(f, "  <backingStore>\n    <path>");
		bh_xml_escape(f, backing);
		fprintf(f, "</path>\n    <format type='qcow2'/>\n  </backingStore>\n");
	}
	fprintf(f, "</volume>\n");
	fclose(f);
	return xml;
}

bool bh_storage_create_overlay(virStoragePoolPtr pool, const char *name, const char *backing,
	char *error, size_t error_size)
{
	char *xml = volume_xml(name, 0, "qcow2", backing);
	bool ok = xml != NULL && create_volume(pool, name, xml, error, error_size);
	free(xml);
	return ok;
}

bool bh_storage_create_disk(
	virStoragePoolPtr pool, const char *name, unsigned size_mib, char *error, size_t error_size)
{
	char *xml = volume_xml(name, (uint64_t)size_mib << 20, "qcow2", NULL);
	bool ok = xml != NULL && create_volume(pool, name, xml, error, error_size);
	free(xml);
	return ok;
}

bool bh_storage_delete(virStoragePoolPtr pool, const char *name, char *error, size_t error_size)
{
	virStorageVolPtr vol = volume(pool, name);
	if (vol == NULL) {
		return true;
	}
	bool ok = virStorageVolDelete(vol, 0) == 0;
	if (!ok) {
		fail(error, error_size, "cannot delete the volume %s of the storage pool %s: %s",
			name, virStoragePoolGetName(pool), libvirt_message());
	}
	virStorageVolFree(vol);
	return ok;
}

uint64_t bh_storage_allocation(virStoragePoolPtr pool, const char *name)
{
	virStorageVolPtr vol = volume(pool, name);
	virStorageVolInfo info;
	uint64_t bytes = 0;
	if (vol != NULL && virStorageVolGetInfo(vol, &info) == 0) {
		bytes = info.allocation;
	}
	if (vol != NULL) {
		virStorageVolFree(vol);
	}
	return bytes;
}

char *bh_storage_backing(virStoragePoolPtr pool, const char *name)
{
	virStorageVolPtr vol = volume(pool, name);
	char *xml = vol != NULL ? virStorageVolGetXMLDesc(vol, 0) : NULL;
	char path[PATH_MAX];
	char *result = NULL;
	if (xml != NULL && strstr(xml, "<backingStore>") != NULL &&
		xml_text(xml, "<backingStore>", "path", path, sizeof(path))) {
		result = strdup(path);
	}
	free(xml);
	if (vol != NULL) {
		virStorageVolFree(vol);
	}
	return result;
}

char *bh_storage_read(virConnectPtr conn, virStoragePoolPtr pool, const char *name, int64_t offset,
	size_t max, size_t *len)
{
	virStorageVolPtr vol = volume(pool, name);
	virStorageVolInfo info;
	if (vol == NULL || virStorageVolGetInfo(vol, &info) != 0) {
		if (vol != NULL) {
			virStorageVolFree(vol);
		}
		return NULL;
	}
	/* capacity is the file's size for a raw file volume. */
	uint64_t size = info.capacity;
	uint64_t from = offset >= 0 ? (uint64_t)offset : (size > max ? size - max : 0);
	uint64_t want = from < size ? size - from : 0;
	if (want > max) {
		want = max;
	}
	char *buf = malloc(want + 1);
	virStreamPtr st = virStreamNew(conn, 0);
	size_t got = 0;
	bool ok = buf != NULL && st != NULL;
	if (ok && want > 0) {
		ok = virStorageVolDownload(vol, st, from, want, 0) == 0;
		while (ok) {
			/* One byte of room past want (buf has it) tells a host that
			 * sends more than asked from one that sends exactly that. */
			size_t room = got < want ? want - got : 1;
			int n = virStreamRecv(st, buf + got, room);
			if (n < 0) {
				ok = false;
			} else if (n == 0) {
				break;
			} else if ((size_t)n > want - got) {
				bh_log(BH_LOG_ERROR, "volume %s: the host sent more than asked for",
					name);
				ok = false;
			} else {
				got += (size_t)n;
			}
		}
		ok = ok && virStreamFinish(st) == 0;
		if (!ok) {
			virStreamAbort(st);
		}
	}
	if (st != NULL) {
		virStreamFree(st);
	}
	virStorageVolFree(vol);
	if (!ok) {
		bh_log(BH_LOG_DEBUG, "reading volume %s: %s", name, libvirt_message());
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

static const char *json_string(json_object *o, const char *key)
{
	json_object *v;
	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

bool bh_storage_base_get(
	virConnectPtr conn, virStoragePoolPtr pool, const char *id, struct bh_pool_base *base)
{
	char name[BH_VOLUME_NAME_SIZE];
	memset(base, 0, sizeof(*base));
	if (!bh_storage_base_volume(id, "manifest.json", name, sizeof(name))) {
		return false;
	}
	size_t len = 0;
	char *text = bh_storage_read(conn, pool, name, 0, MANIFEST_MAX, &len);
	if (text == NULL) {
		return false;
	}
	json_object *m = strlen(text) == len ? json_tokener_parse(text) : NULL;
	free(text);
	const char *got_id = m != NULL ? json_string(m, "id") : NULL;
	const char *cmdline = m != NULL ? json_string(m, "cmdline") : NULL;
	json_object *initrd = NULL;
	bool ok = got_id != NULL && strcmp(got_id, id) == 0 && cmdline != NULL &&
		  strlen(cmdline) < CMDLINE_MAX &&
		  json_object_object_get_ex(m, "initrd", &initrd) &&
		  json_object_is_type(initrd, json_type_boolean);
	for (const char *c = cmdline; ok && *c; c++) {
		ok = (unsigned char)*c >= 0x20 && *c != 0x7f;
	}
	if (ok) {
		snprintf(base->id, sizeof(base->id), "%s", id);
		base->cmdline = strdup(cmdline);
		base->has_initrd = json_object_get_boolean(initrd);
		ok = base->cmdline != NULL;
	} else {
		bh_log(BH_LOG_WARN,
			"the manifest volume %s of pool %s is not one of ours; base %s "
			"counts as not pushed",
			name, virStoragePoolGetName(pool), id);
	}
	json_object_put(m);
	return ok;
}

void bh_storage_base_finish(struct bh_pool_base *base)
{
	free(base->cmdline);
	base->cmdline = NULL;
}

static void hex(const uint8_t digest[SHA256_DIGEST_SIZE], char out[HEX_SHA256])
{
	for (int i = 0; i < SHA256_DIGEST_SIZE; i++) {
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	}
}

/* Ends a volume's transfer once its error is read: the stream aborted
 * unless ok, then it and the volume freed (either may be NULL). */
static void transfer_end(virStreamPtr stream, virStorageVolPtr vol, bool ok)
{
	if (stream != NULL) {
		if (!ok) {
			virStreamAbort(stream);
		}
		virStreamFree(stream);
	}
	if (vol != NULL) {
		virStorageVolFree(vol);
	}
}

/* Sends the local file into a new raw volume name, hashing what it sent. */
static bool upload(virConnectPtr conn, virStoragePoolPtr pool, const char *name, const char *file,
	bh_storage_progress_fn progress, void *user, char digest[HEX_SHA256], uint64_t *bytes,
	char *error, size_t error_size)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		fail(error, error_size, "cannot read %s: %s", file, strerror(errno));
		if (fd >= 0) {
			close(fd);
		}
		return false;
	}
	*bytes = (uint64_t)st.st_size;
	/* A raw volume of the file's size: the bytes sent are the file, so a
	 * qcow2 root stays qcow2 (libvirt probes it when it refreshes). */
	char *xml = volume_xml(name, *bytes > 0 ? *bytes : 1, "raw", NULL);
	if (xml == NULL || !create_volume(pool, name, xml, error, error_size)) {
		free(xml);
		close(fd);
		return false;
	}
	free(xml);
	virStorageVolPtr vol = volume(pool, name);
	virStreamPtr stream = virStreamNew(conn, 0);
	char *buf = malloc(CHUNK);
	struct sha256_ctx sha;
	sha256_init(&sha);
	bool ok = vol != NULL && stream != NULL && buf != NULL &&
		  virStorageVolUpload(vol, stream, 0, *bytes, 0) == 0;
	uint64_t done = 0;
	const char *why = NULL;
	while (ok && done < *bytes) {
		ssize_t n = read(fd, buf, CHUNK);
		if (n <= 0) {
			why = n < 0 ? strerror(errno) : "the file shrank while it was sent";
			ok = false;
			break;
		}
		sha256_update(&sha, (size_t)n, (const uint8_t *)buf);
		for (ssize_t off = 0; ok && off < n;) {
			int sent = virStreamSend(stream, buf + off, (size_t)(n - off));
			if (sent < 0) {
				ok = false;
			} else {
				off += sent;
			}
		}
		done += (uint64_t)n;
		if (progress != NULL) {
			progress(user, "sending", name, done, *bytes);
		}
	}
	if (ok && virStreamFinish(stream) != 0) {
		ok = false;
	}
	if (!ok) {
		fail(error, error_size, "sending %s into the storage pool %s failed: %s", file,
			virStoragePoolGetName(pool), why != NULL ? why : libvirt_message());
	}
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_digest(&sha, sizeof(d), d);
	hex(d, digest);
	free(buf);
	transfer_end(stream, vol, ok);
	close(fd);
	return ok;
}

/* Reads volume name back whole and hashes it; exactly bytes must come. */
static bool download_digest(virConnectPtr conn, virStoragePoolPtr pool, const char *name,
	uint64_t bytes, bh_storage_progress_fn progress, void *user, char digest[HEX_SHA256],
	char *error, size_t error_size)
{
	virStorageVolPtr vol = volume(pool, name);
	virStreamPtr stream = virStreamNew(conn, 0);
	char *buf = malloc(CHUNK);
	struct sha256_ctx sha;
	sha256_init(&sha);
	bool ok = vol != NULL && stream != NULL && buf != NULL &&
		  virStorageVolDownload(vol, stream, 0, bytes, 0) == 0;
	uint64_t done = 0;
	const char *why = NULL;
	while (ok) {
		int n = virStreamRecv(stream, buf, CHUNK);
		if (n < 0) {
			ok = false;
		} else if (n == 0) {
			break;
		} else if ((uint64_t)n > bytes - done) {
			why = "the host sent back more bytes than were sent";
			ok = false;
		} else {
			sha256_update(&sha, (size_t)n, (const uint8_t *)buf);
			done += (uint64_t)n;
			if (progress != NULL) {
				progress(user, "checking", name, done, bytes);
			}
		}
	}
	ok = ok && virStreamFinish(stream) == 0;
	if (ok && done != bytes) {
		why = "the host has fewer bytes than were sent";
		ok = false;
	}
	if (!ok) {
		fail(error, error_size,
			"reading back the volume %s of the storage pool %s failed: %s", name,
			virStoragePoolGetName(pool), why != NULL ? why : libvirt_message());
	}
	uint8_t d[SHA256_DIGEST_SIZE];
	sha256_digest(&sha, sizeof(d), d);
	hex(d, digest);
	free(buf);
	transfer_end(stream, vol, ok);
	return ok;
}

bool bh_storage_download(virConnectPtr conn, virStoragePoolPtr pool, const char *name, int fd,
	char *error, size_t error_size)
{
	virStorageVolPtr vol = volume(pool, name);
	virStreamPtr stream = virStreamNew(conn, 0);
	char *buf = malloc(CHUNK);
	/* Length 0: to the end of the file, whatever its format. */
	bool ok = vol != NULL && stream != NULL && buf != NULL &&
		  virStorageVolDownload(vol, stream, 0, 0, 0) == 0;
	const char *why = NULL;
	while (ok) {
		int n = virStreamRecv(stream, buf, CHUNK);
		if (n < 0) {
			ok = false;
		} else if (n == 0) {
			break;
		}
		for (int off = 0; ok && off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0) {
				why = strerror(errno);
				ok = false;
			} else {
				off += (int)w;
			}
		}
	}
	ok = ok && virStreamFinish(stream) == 0;
	if (ok && fsync(fd) != 0) {
		why = strerror(errno);
		ok = false;
	}
	if (!ok) {
		fail(error, error_size, "reading the volume %s of the storage pool %s failed: %s",
			name, virStoragePoolGetName(pool),
			why != NULL ? why : (vol == NULL ? "it is missing" : libvirt_message()));
	}
	free(buf);
	transfer_end(stream, vol, ok);
	return ok;
}

bool bh_storage_upload_checked(virConnectPtr conn, virStoragePoolPtr pool, const char *name,
	const char *file, char *error, size_t error_size)
{
	char sent[HEX_SHA256], back[HEX_SHA256];
	uint64_t bytes = 0;
	bool ok = upload(conn, pool, name, file, NULL, NULL, sent, &bytes, error, error_size) &&
		  download_digest(conn, pool, name, bytes, NULL, NULL, back, error, error_size);
	if (ok && strcmp(sent, back) != 0) {
		fail(error, error_size,
			"the volume %s of the storage pool %s differs from %s (SHA-256 %s, "
			"sent %s)",
			name, virStoragePoolGetName(pool), file, back, sent);
		ok = false;
	}
	if (!ok) {
		char why[512];
		if (!bh_storage_delete(pool, name, why, sizeof(why))) {
			bh_log(BH_LOG_WARN, "%s", why);
		}
		return false;
	}
	virStoragePoolRefresh(pool, 0);
	return true;
}

/* A small volume holding exactly text. */
static bool write_small(virConnectPtr conn, virStoragePoolPtr pool, const char *name,
	const char *text, char *error, size_t error_size)
{
	size_t len = strlen(text);
	char *xml = volume_xml(name, len, "raw", NULL);
	if (xml == NULL || !create_volume(pool, name, xml, error, error_size)) {
		free(xml);
		return false;
	}
	free(xml);
	virStorageVolPtr vol = volume(pool, name);
	virStreamPtr stream = virStreamNew(conn, 0);
	bool ok = vol != NULL && stream != NULL && virStorageVolUpload(vol, stream, 0, len, 0) == 0;
	for (size_t off = 0; ok && off < len;) {
		int n = virStreamSend(stream, text + off, len - off);
		ok = n >= 0;
		off += n > 0 ? (size_t)n : 0;
	}
	ok = ok && virStreamFinish(stream) == 0;
	if (!ok) {
		fail(error, error_size, "writing the volume %s of the storage pool %s failed: %s",
			name, virStoragePoolGetName(pool), libvirt_message());
	}
	transfer_end(stream, vol, ok);
	return ok;
}

void bh_storage_delete_base(virStoragePoolPtr pool, const char *id)
{
	static const char *const parts[] = {
		"manifest.json", "vmlinuz", "initrd.img", "root.qcow2", NULL};
	for (int i = 0; parts[i] != NULL; i++) {
		char name[BH_VOLUME_NAME_SIZE], err[512];
		if (bh_storage_base_volume(id, parts[i], name, sizeof(name)) &&
			!bh_storage_delete(pool, name, err, sizeof(err))) {
			bh_log(BH_LOG_WARN, "%s", err);
		}
	}
}

bool bh_storage_push_base(virConnectPtr conn, virStoragePoolPtr pool, const char *id,
	bh_storage_progress_fn progress, void *user, bool *sent, char *error, size_t error_size)
{
	*sent = false;
	struct bh_pool_base there;
	if (bh_storage_base_get(conn, pool, id, &there)) {
		bh_storage_base_finish(&there);
		return true;
	}
	struct bh_base *bases = NULL;
	int n = bh_base_list(&bases);
	const struct bh_base *base = NULL;
	for (int i = 0; i < n; i++) {
		if (strcmp(bases[i].id, id) == 0) {
			base = &bases[i];
		}
	}
	if (base == NULL) {
		fail(error, error_size, "there is no base \"%s\" here: see `bulkheadctl base list`",
			id);
		bh_base_list_free(bases, n);
		return false;
	}
	/* What an interrupted push left goes first. */
	bh_storage_delete_base(pool, id);
	const char *parts[] = {"vmlinuz", base->has_initrd ? "initrd.img" : NULL, "root.qcow2"};
	json_object *m = json_object_new_object();
	json_object *files = json_object_new_object();
	json_object_object_add(m, "id", json_object_new_string(id));
	json_object_object_add(m, "created", json_object_new_string(base->created));
	json_object_object_add(m, "cmdline", json_object_new_string(base->cmdline));
	json_object_object_add(m, "initrd", json_object_new_boolean(base->has_initrd));
	bool ok = true;
	for (size_t i = 0; ok && i < sizeof(parts) / sizeof(parts[0]); i++) {
		char file[PATH_MAX], name[BH_VOLUME_NAME_SIZE], sent_digest[HEX_SHA256],
			back_digest[HEX_SHA256];
		uint64_t bytes = 0;
		if (parts[i] == NULL) {
			continue;
		}
		if (!bh_paths_base(id, parts[i], file, sizeof(file)) ||
			!bh_storage_base_volume(id, parts[i], name, sizeof(name))) {
			fail(error, error_size, "base %s: a path is too long", id);
			ok = false;
			break;
		}
		ok = upload(conn, pool, name, file, progress, user, sent_digest, &bytes, error,
			     error_size) &&
		     download_digest(conn, pool, name, bytes, progress, user, back_digest, error,
			     error_size);
		if (ok && strcmp(sent_digest, back_digest) != 0) {
			fail(error, error_size,
				"base %s: the volume %s on the host differs from %s (SHA-256 %s, "
				"sent %s); push it again",
				id, name, file, back_digest, sent_digest);
			ok = false;
		}
		if (ok) {
			json_object *f = json_object_new_object();
			json_object_object_add(f, "bytes", json_object_new_int64((int64_t)bytes));
			json_object_object_add(f, "sha256", json_object_new_string(sent_digest));
			json_object_object_add(files, parts[i], f);
		}
	}
	json_object_object_add(m, "files", files);
	if (ok) {
		char name[BH_VOLUME_NAME_SIZE];
		ok = bh_storage_base_volume(id, "manifest.json", name, sizeof(name)) &&
		     write_small(conn, pool, name,
			     json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY), error,
			     error_size);
	}
	json_object_put(m);
	bh_base_list_free(bases, n);
	if (!ok) {
		bh_storage_delete_base(pool, id);
		return false;
	}
	/* The root is probed as qcow2 only once libvirt looks at it again. */
	virStoragePoolRefresh(pool, 0);
	*sent = true;
	return true;
}
