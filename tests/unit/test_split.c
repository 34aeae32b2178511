/*
 * rows_per_file (SPEC section 3): a job's file becomes one zip archive of
 * parts of that many rows, each a whole file with its header; written
 * atomically, with no temporary file left behind, for dataset and
 * extractor sources alike; a failed split build leaves nothing.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <zip.h>

#include "testutil.h"

#include "quarry/export.h"
#include "quarry/model.h"

static void
import(struct tu *t, const char *name, const char *csv)
{
	FILE	*f = fmemopen((void *)csv, strlen(csv), "r");
	char	 err[256];

	assert_non_null(f);
	if (dataset_import(t->s, "acme", name, f, 0, err, sizeof(err)) !=
	    Q_OK)
		fail_msg("import: %s", err);
	fclose(f);
}

static void
def_of(struct definition *d, const char *json)
{
	char field[64], err[256];

	memset(d, 0, sizeof(*d));
	if (definition_parse(json, strlen(json), d, field, sizeof(field), err,
	    sizeof(err)) != Q_OK)
		fail_msg("definition: %s: %s", field, err);
}

static void
job_of(struct job *j, enum fmt f)
{
	memset(j, 0, sizeof(*j));
	assert_int_equal(id_new(j->id), Q_OK);
	strcpy(j->tenant, "acme");
	j->format = f;
	j->params = (char *)"{}";
}

/* The number of files in the files directory. */
static int
files_count(struct tu *t)
{
	DIR		*d = opendir(t->conf.files_dir);
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Entry i of the archive: its name and text. */
static char *
entry(zip_t *z, zip_uint64_t i, const char **name)
{
	zip_stat_t	 st;
	zip_file_t	*f;
	char		*s;

	assert_int_equal(zip_stat_index(z, i, 0, &st), 0);
	*name = zip_get_name(z, i, 0);
	s = calloc(1, st.size + 1);
	assert_non_null(f = zip_fopen_index(z, i, 0));
	assert_int_equal(zip_fread(f, s, st.size), (zip_int64_t)st.size);
	zip_fclose(f);
	return s;
}

static zip_t *
open_zip(struct tu *t, const char *file)
{
	char	 path[PATH_MAX];
	int	 err;
	zip_t	*z;

	tu_path(path, t->conf.files_dir, file);
	z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &err);
	assert_non_null(z);
	return z;
}

static const char *ROWS10 =
    "id,v\n0,a\n1,b\n2,c\n3,d\n4,e\n5,f\n6,g\n7,h\n8,i\n9,j\n";

static void
test_dataset_split(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	struct job		 j;
	char			 file[64], *s;
	const char		*name;
	zip_t			*z;
	struct stat		 st;
	char			 path[PATH_MAX];

	import(t, "ten", ROWS10);
	def_of(&d, "{\"tenant\":\"acme\",\"name\":\"Ten rows / split!\","
	    "\"source\":{\"dataset\":\"ten\"},\"formats\":[\"csv\"],"
	    "\"rows_per_file\":4}");
	job_of(&j, FMT_CSV);
	assert_int_equal(build_job_file(t->s, &t->conf, &d, &j, NULL, NULL,
	    file, &res), Q_OK);
	assert_int_equal(strlen(file), ID_LEN + 4);
	assert_string_equal(file + ID_LEN, ".zip");
	assert_int_equal(res.rows, 10);
	tu_path(path, t->conf.files_dir, file);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(res.bytes, (uint64_t)st.st_size);
	assert_int_equal(files_count(t), 1);	/* no part or temp left */

	z = open_zip(t, file);
	assert_int_equal(zip_get_num_entries(z, 0), 3);
	s = entry(z, 0, &name);
	assert_string_equal(name, "Ten_rows_split-part0001.csv");
	assert_string_equal(s, "id,v\r\n0,a\r\n1,b\r\n2,c\r\n3,d\r\n");
	free(s);
	s = entry(z, 1, &name);
	assert_string_equal(name, "Ten_rows_split-part0002.csv");
	assert_string_equal(s, "id,v\r\n4,e\r\n5,f\r\n6,g\r\n7,h\r\n");
	free(s);
	s = entry(z, 2, &name);
	assert_string_equal(name, "Ten_rows_split-part0003.csv");
	assert_string_equal(s, "id,v\r\n8,i\r\n9,j\r\n");
	free(s);
	zip_discard(z);
	definition_free(&d);
}

static void
test_exact_multiple_and_json(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	struct job		 j;
	char			 file[64], *s;
	const char		*name;
	zip_t			*z;

	import(t, "ten", ROWS10);
	def_of(&d, "{\"tenant\":\"acme\",\"name\":\"J\",\"source\":"
	    "{\"dataset\":\"ten\"},\"formats\":[\"json\"],\"rows_per_file\":5}");
	job_of(&j, FMT_JSON);
	assert_int_equal(build_job_file(t->s, &t->conf, &d, &j, NULL, NULL,
	    file, &res), Q_OK);
	z = open_zip(t, file);
	/* 10 rows in parts of 5: two parts, no empty third */
	assert_int_equal(zip_get_num_entries(z, 0), 2);
	s = entry(z, 1, &name);
	assert_string_equal(name, "J-part0002.json");
	assert_non_null(strstr(s, "{\"id\":\"9\",\"v\":\"j\"}"));
	assert_int_equal(s[0], '[');
	free(s);
	zip_discard(z);
	definition_free(&d);
}

static void
test_no_rows_one_part(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	struct job		 j;
	char			 file[64], *s;
	const char		*name;
	zip_t			*z;

	import(t, "none", "id,v\n");
	def_of(&d, "{\"tenant\":\"acme\",\"name\":\"\\u00e9t\\u00e9\","
	    "\"source\":{\"dataset\":\"none\"},\"formats\":[\"csv\"],"
	    "\"rows_per_file\":3}");
	job_of(&j, FMT_CSV);
	assert_int_equal(build_job_file(t->s, &t->conf, &d, &j, NULL, NULL,
	    file, &res), Q_OK);
	z = open_zip(t, file);
	assert_int_equal(zip_get_num_entries(z, 0), 1);
	s = entry(z, 0, &name);
	assert_string_equal(name, "t-part0001.csv");
	assert_string_equal(s, "id,v\r\n");
	free(s);
	zip_discard(z);
	definition_free(&d);
}

static void
test_command_split_and_failure(void **state)
{
	struct tu		*t = *state;
	struct definition	 d;
	struct build_result	 res;
	struct job		 j;
	char			 file[64], path[PATH_MAX], *s;
	const char		*name;
	zip_t			*z;

	tu_path(path, t->conf.extractors_dir, "gen");
	assert_int_equal(tu_write_file(path, "#!/bin/sh\necho n\n"
	    "i=0; while [ $i -lt 7 ]; do echo $i; i=$((i+1)); done\n"
	    "[ \"$1\" = fail ] && { echo 'half way' >&2; exit 2; }\n"
	    "exit 0\n"), 0);
	assert_int_equal(chmod(path, 0755), 0);
	def_of(&d, "{\"tenant\":\"acme\",\"name\":\"Gen\",\"source\":"
	    "{\"command\":\"gen\",\"args\":[\"{mode}\"]},\"parameters\":"
	    "[{\"name\":\"mode\",\"type\":\"string\",\"required\":false}],"
	    "\"formats\":[\"tsv\"],\"rows_per_file\":3}");
	job_of(&j, FMT_TSV);
	assert_int_equal(build_job_file(t->s, &t->conf, &d, &j, NULL, NULL,
	    file, &res), Q_OK);
	z = open_zip(t, file);
	assert_int_equal(zip_get_num_entries(z, 0), 3);
	s = entry(z, 2, &name);
	assert_string_equal(name, "Gen-part0003.tsv");
	assert_string_equal(s, "n\n6\n");
	free(s);
	zip_discard(z);
	assert_int_equal(files_count(t), 1);

	/* a failed split build leaves nothing behind */
	job_of(&j, FMT_TSV);
	j.params = (char *)"{\"mode\":\"fail\"}";
	assert_int_not_equal(build_job_file(t->s, &t->conf, &d, &j, NULL,
	    NULL, file, &res), Q_OK);
	assert_non_null(strstr(res.detail, "half way"));
	assert_int_equal(files_count(t), 1);
	definition_free(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TU_STORE_TEST(test_dataset_split),
		TU_STORE_TEST(test_exact_multiple_and_json),
		TU_STORE_TEST(test_no_rows_one_part),
		TU_STORE_TEST(test_command_split_and_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
