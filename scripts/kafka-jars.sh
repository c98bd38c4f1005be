#!/usr/bin/env bash
# Download Apache Kafka (broker + tools + a logging backend) jars from Maven Central with Maven.
#
#   scripts/kafka-jars.sh [VERSION]      # VERSION: 4.1 (default), 3.9, or an exact x.y.z
#
# No tarball, no docker: a generated pom and maven-dependency-plugin copy-dependencies.
# Output: $OFFSETLAG_TEST_KAFKA_CACHE/<version>/libs (default <repo>/.cache/kafka/<version>/libs);
# the last line printed on stdout is that directory. Maven's own cache is ~/.m2 as usual.
# Idempotent and concurrency-safe (flock): a second run with the jars present returns at once.
#
# Env: KAFKA_VERSION (used when no argument), OFFSETLAG_TEST_KAFKA_CACHE, MVN (maven command, default mvn).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

# Newest patch releases on Maven Central when this was written (checked against maven-metadata.xml).
DEFAULT_41=4.1.2
DEFAULT_39=3.9.2
LOG4J2_VERSION=2.24.3

want="${1:-${KAFKA_VERSION:-4.1}}"
case "$want" in
  4.1|4.1.x|"") ver=$DEFAULT_41 ;;
  3.9|3.9.x) ver=$DEFAULT_39 ;;
  [0-9]*.[0-9]*.[0-9]*) ver=$want ;;
  *) echo "kafka-jars.sh: unsupported version '$want' (use 4.1, 3.9 or x.y.z)" >&2; exit 2 ;;
esac

cache="${OFFSETLAG_TEST_KAFKA_CACHE:-$repo/.cache/kafka}"
dir="$cache/$ver"
libs="$dir/libs"
marker="$dir/.complete"

have_jars() {
  [[ -f "$marker" && -f "$libs/kafka_2.13-$ver.jar" && -f "$libs/kafka-tools-$ver.jar" ]]
}

if have_jars; then
  echo "$libs"
  exit 0
fi

mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9
if have_jars; then   # another process finished while we waited for the lock
  echo "$libs"
  exit 0
fi

command -v "${MVN:-mvn}" >/dev/null || { echo "kafka-jars.sh: maven ('${MVN:-mvn}') not found; install it (apt-get install maven) or run scripts/ci-deps.sh" >&2; exit 3; }

# Logging backend. The kafka_2.13 POM brings slf4j-api only (1.7.36 for 3.9 and 4.1), no backend.
# Both versions get log4j2 (log4j-slf4j-impl is the slf4j 1.x binding). Kafka 3.9's core still
# references log4j 1 classes (kafka.utils.Log4jController), so 3.9 also gets log4j2's log4j-1.2-api
# bridge: one log4j2 properties file then configures every version.
extra=""
case "$ver" in
  3.*) extra="<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-1.2-api</artifactId><version>$LOG4J2_VERSION</version></dependency>" ;;
esac

cat >"$dir/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>offsetlag.test</groupId>
  <artifactId>kafka-libs</artifactId>
  <version>$ver</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$ver</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$ver</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J2_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J2_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>$LOG4J2_VERSION</version></dependency>
    $extra
  </dependencies>
</project>
POM

tmp="$dir/libs.tmp"
rm -rf "$tmp"
start=$(date +%s)
echo "kafka-jars.sh: resolving Kafka $ver jars with maven (first run downloads ~100 MB into ~/.m2)..." >&2
"${MVN:-mvn}" -B -q -Dstyle.color=never -f "$dir/pom.xml" \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$tmp" >&2
[[ -f "$tmp/kafka_2.13-$ver.jar" ]] || { echo "kafka-jars.sh: kafka_2.13-$ver.jar missing after maven run" >&2; exit 4; }
# Drop any other slf4j binding/backends a transitive dependency might bring, so slf4j picks log4j2.
rm -f "$tmp"/slf4j-reload4j-*.jar "$tmp"/slf4j-log4j12-*.jar "$tmp"/reload4j-*.jar "$tmp"/logback-classic-*.jar "$tmp"/slf4j-simple-*.jar
rm -rf "$libs"
mv "$tmp" "$libs"
date -u +%FT%TZ >"$marker"
echo "kafka-jars.sh: Kafka $ver: $(ls "$libs" | wc -l) jars in $(( $(date +%s) - start ))s" >&2
echo "$libs"
