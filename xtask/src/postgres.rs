//! A throwaway PostgreSQL on loopback for the collector's tests, from Debian's packages. Started by
//! `cargo xtask test`, stopped when dropped. Its URL goes to the tests as `ASSENT_TEST_DATABASE_URL`.
//! It serves TLS with a certificate for `localhost` (not for `127.0.0.1`) from a CA made here with
//! `openssl` (a dependency of Debian's `postgresql`), whose file goes to the tests as
//! `ASSENT_TEST_DATABASE_CA`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

use crate::run;

/// A running test server.
pub struct TestPostgres {
    pg_ctl: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    /// `postgres://postgres@127.0.0.1:<port>` (append `/<database>`).
    pub url: String,
    /// The PEM file of the CA that signed the server's certificate.
    pub ca: PathBuf,
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false)
}

/// The newest installed server's `bin/` directory, installing Debian's `postgresql` if missing (as root).
fn bin_dir() -> Result<PathBuf> {
    let find = || -> Option<PathBuf> {
        let mut versions: Vec<PathBuf> =
            std::fs::read_dir("/usr/lib/postgresql").ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        versions
            .sort_by_key(|p| p.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<u32>().ok()).unwrap_or(0));
        versions.into_iter().rev().map(|v| v.join("bin")).find(|b| b.join("initdb").exists())
    };
    if let Some(bin) = find() {
        return Ok(bin);
    }
    crate::apt_install(&["postgresql"], "PostgreSQL is missing")?;
    find().context("postgresql installed, but no initdb under /usr/lib/postgresql/*/bin")
}

fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        // The server refuses to run as root.
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl TestPostgres {
    /// Creates a fresh cluster in its own directory under the system temp dir and starts it on a free
    /// loopback port. Not under the checkout: as root the server runs as `postgres`, which may not be
    /// able to enter the checkout (a clone in a `mktemp -d` directory is mode 700).
    pub fn start() -> Result<TestPostgres> {
        let bin = bin_dir()?;
        let dir = std::env::temp_dir().join(format!("assent-pg-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
        }
        let data = dir.join("data");
        let status = command(as_postgres, &bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
            .stdout(Stdio::null())
            .status()
            .context("run initdb")?;
        if !status.success() {
            bail!("initdb failed ({status})");
        }
        let tls = certificates(&dir.join("tls"), as_postgres)?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let pg_ctl = bin.join("pg_ctl");
        let status = command(as_postgres, &pg_ctl)
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .arg("-o")
            .arg(format!(
                "-p {port} -k {} -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                dir.display(),
                tls.join("server.crt").display(),
                tls.join("server.key").display()
            ))
            .args(["-w", "start"])
            .stdout(Stdio::null())
            .status()
            .context("run pg_ctl start")?;
        if !status.success() {
            bail!("PostgreSQL did not start ({status}); see {}", dir.join("server.log").display());
        }
        eprintln!(
            "PostgreSQL {} on 127.0.0.1:{port} for the collector tests",
            bin.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or("")
        );
        Ok(TestPostgres {
            pg_ctl,
            dir,
            data,
            as_postgres,
            url: format!("postgres://postgres@127.0.0.1:{port}"),
            ca: tls.join("ca.crt"),
        })
    }
}

/// A CA and a server certificate it signs, for `localhost` only, in `dir`; returns `dir`.
fn certificates(dir: &Path, as_postgres: bool) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let openssl = |args: &[&str]| -> Result<()> {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .context("run openssl (Debian: apt-get install --no-install-recommends openssl)")?;
        if !out.status.success() {
            bail!("openssl {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[
            &["req", "-x509", "-days", "2", "-subj", "/CN=Assent test CA", "-keyout", "ca.key", "-out", "ca.crt"][..],
            &ec,
            &["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"],
        ]
        .concat(),
    )?;
    openssl(&[&["req", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"][..], &ec].concat())?;
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )?;
    openssl(&[
        "x509",
        "-req",
        "-days",
        "2",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ])?;
    // The server refuses a key that others can read.
    run(Command::new("chmod").arg("600").arg(dir.join("server.key")))?;
    if as_postgres {
        run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir))?;
    }
    Ok(dir.to_path_buf())
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = command(self.as_postgres, &self.pg_ctl)
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
