#!/usr/bin/env bash
# Fetch Delta Lake's JVM artifacts once into a project-local cache (default .cache/jars) for spark.jars.
# Keeps only the jars that the pyspark wheel does not already ship (Spark's own versions win), so the
# classpath has no second copy of jackson/hadoop/parquet. Idempotent: a stamp file skips the second run.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/.cache/jars}
py=${PYTHON:-$here/.venv/bin/python}
pom=$here/build/delta-jars.pom.xml
stamp=$out/.stamp
want=$(sha256sum "$pom" | cut -c1-16)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then exit 0; fi
spark_jars=$("$py" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mvn -q -B -f "$pom" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp"
rm -rf "$out"; mkdir -p "$out"
for jar in "$tmp"/*.jar; do
  name=$(basename "$jar" .jar)
  artifact=$(sed -E 's/-[0-9][0-9.]*(-[0-9]+)?$//' <<<"$name")
  compgen -G "$spark_jars/${artifact}-[0-9]*.jar" >/dev/null || cp "$jar" "$out/"
done
echo "$want" > "$stamp"
echo "delta jars: $(ls "$out"/*.jar | wc -l) in $out"
