//! `imq-supervise units FILE DIR`: the pipeline as systemd units, for running it
//! without `imq-supervise run` in front: a `.service` per stage and worker
//! (`Restart=on-failure`, hardened), a `.timer` per scheduled collector, a
//! `.socket` per stage input holding its FIFO open (the `fifo` transport: systemd
//! keeps the pipe, so a restarted stage finds what was queued), and one `.target`
//! that pulls them all in.
//!
//! Without the supervisor there are no relays: with `fifo`, each path of a stage
//! goes to exactly one stage of one worker. Fan-out and several workers need the
//! supervisor (`run`) or a broker transport.

use super::config::{Pipeline, Transport};
use super::schedule::Schedule;
use super::state;
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Options of `units`.
pub struct UnitOpts {
    /// `User=` of the services (none: systemd's default, root).
    pub user: Option<String>,
    /// Where the FIFOs live (default /run/imq/<pipeline>).
    pub fifo_dir: Option<PathBuf>,
}

fn unit_prefix(p: &Pipeline) -> String {
    format!("imq-{}", p.name)
}

/// Quote one word for an `ExecStart=` line (systemd's quoting: double quotes,
/// backslash escapes, `%` and `$` doubled so that nothing is expanded).
fn exec_word(w: &str) -> String {
    let e = w.replace('%', "%%").replace('$', "$$");
    if !e.is_empty()
        && e.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@".contains(&b))
    {
        return e;
    }
    let mut s = String::from("\"");
    for c in e.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// Quote one `NAME=value` for `Environment=` (double quotes, backslash escapes,
/// `%` doubled; systemd does not expand `$` there).
fn env_word(w: &str) -> String {
    let mut s = String::from("\"");
    for c in w.replace('%', "%%").chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// The absolute path of a program, as `run` would find it.
fn absolute_program(p: &Pipeline, prog: &str) -> Result<PathBuf> {
    let found = p.program(prog);
    if found.is_absolute() {
        return Ok(found);
    }
    if found.components().count() > 1 {
        return std::path::absolute(&found).context("program path");
    }
    if let Some(path) = std::env::var_os("PATH") {
        for d in std::env::split_paths(&path) {
            let c = d.join(prog);
            if c.is_file() {
                return Ok(c);
            }
        }
    }
    bail!("program {prog:?} not found (set pipeline.bin_dir)")
}

fn fifo(dir: &Path, stage: &str) -> PathBuf {
    dir.join(format!("{stage}.fifo"))
}

const HARDENING: &str = "\
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
CapabilityBoundingSet=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
UMask=0077
";

/// The units: (file name, content).
pub fn units(p: &Pipeline, opts: &UnitOpts) -> Result<Vec<(String, String)>> {
    let broker = matches!(p.transport, Transport::Broker(_));
    let pre = unit_prefix(p);
    let dir = std::path::absolute(
        p.file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new(".")),
    )?;
    let state_dir = std::path::absolute(&p.state_dir)?;
    let fifo_dir = opts
        .fifo_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("/run/imq/{}", p.name)));
    let target = format!("{pre}.target");
    let mut out = Vec::new();
    let mut wants = Vec::new();
    for s in &p.stages {
        if broker {
            broker_units(p, s, opts, &dir, &state_dir, &target, &mut out, &mut wants)?;
            continue;
        }
        if s.workers > 1 {
            bail!(
                "stage {}: {} workers need the supervisor's relays (imq-supervise run) or a broker transport",
                s.name,
                s.workers
            );
        }
        for (path, t) in &s.paths {
            if t.len() > 1 {
                bail!(
                    "stage {}: path {path} goes to {} stages: copies need the supervisor (imq-supervise run) or a broker",
                    s.name,
                    t.len()
                );
            }
        }
        if !s.enabled {
            continue;
        }
        let source = p.is_source(&s.name);
        let unit = format!("{pre}-{}", s.name);
        let mut argv: Vec<String> = vec![absolute_program(p, &s.argv[0])?.display().to_string()];
        argv.extend(s.argv[1..].iter().cloned());
        if !source {
            argv.push("-i".into());
            argv.push(fifo(&fifo_dir, &s.name).display().to_string());
        }
        for (path, t) in &s.paths {
            let f = fifo(&fifo_dir, &t[0]).display().to_string();
            if path == "_default" {
                argv.push("-o".into());
                argv.push(f);
            } else {
                argv.push("--path".into());
                argv.push(format!("{path}={f}"));
            }
        }
        state_args(s, &state_dir, 0, &mut argv);
        let exec: Vec<String> = argv.iter().map(|a| exec_word(a)).collect();
        let scheduled = s.schedule.is_some();
        let mut u = String::new();
        writeln!(
            u,
            "# Generated by imq-supervise units from {}",
            p.file.display()
        )?;
        writeln!(u, "[Unit]")?;
        writeln!(
            u,
            "Description=imq pipeline {} stage {} ({})",
            p.name,
            s.name,
            s.description.as_deref().unwrap_or(s.kind.name())
        )?;
        writeln!(u, "PartOf={target}")?;
        let mut after: Vec<String> = Vec::new();
        if !source {
            after.push(format!("{unit}.socket"));
            writeln!(u, "Requires={unit}.socket")?;
        }
        for t in s.targets() {
            after.push(format!("{pre}-{t}.socket"));
            writeln!(u, "Requires={pre}-{t}.socket")?;
        }
        if !after.is_empty() {
            writeln!(u, "After={}", after.join(" "))?;
        }
        writeln!(u, "\n[Service]")?;
        if scheduled {
            writeln!(u, "Type=oneshot")?;
        } else {
            writeln!(u, "Type=simple")?;
        }
        writeln!(u, "ExecStart={}", exec.join(" "))?;
        writeln!(u, "WorkingDirectory={}", dir.display())?;
        writeln!(u, "Restart=on-failure")?;
        writeln!(u, "RestartSec={}ms", p.restart_delay.as_millis())?;
        // 0 and 1 are both a finished run (1: some input went to the dump).
        writeln!(u, "SuccessExitStatus=1")?;
        if let Some(user) = &opts.user {
            writeln!(u, "User={user}")?;
        }
        writeln!(
            u,
            "ReadWritePaths={} {}",
            dir.display(),
            state_dir.display()
        )?;
        if !source || s.targets().next().is_some() {
            writeln!(u, "ReadWritePaths={}", fifo_dir.display())?;
        }
        u.push_str(HARDENING);
        writeln!(u, "SyslogIdentifier={}", s.name)?;
        if !scheduled {
            writeln!(u, "\n[Install]\nWantedBy={target}")?;
            wants.push(format!("{unit}.service"));
        }
        out.push((format!("{unit}.service"), u));
        if !source {
            let mut k = String::new();
            writeln!(
                k,
                "# Generated by imq-supervise units from {}",
                p.file.display()
            )?;
            writeln!(
                k,
                "[Unit]\nDescription=imq pipeline {} input of stage {}\nPartOf={target}\n",
                p.name, s.name
            )?;
            writeln!(k, "[Socket]")?;
            writeln!(k, "ListenFIFO={}", fifo(&fifo_dir, &s.name).display())?;
            writeln!(k, "SocketMode=0600")?;
            if let Some(user) = &opts.user {
                writeln!(k, "SocketUser={user}")?;
            }
            writeln!(k, "RemoveOnStop=no")?;
            writeln!(k, "Service={unit}.service")?;
            writeln!(k, "\n[Install]\nWantedBy={target}")?;
            out.push((format!("{unit}.socket"), k));
            wants.push(format!("{unit}.socket"));
        }
        if let Some(sch) = &s.schedule {
            out.push((format!("{unit}.timer"), timer(p, s, sch, &unit, &target)?));
            wants.push(format!("{unit}.timer"));
        }
    }
    let mut t = String::new();
    writeln!(
        t,
        "# Generated by imq-supervise units from {}",
        p.file.display()
    )?;
    writeln!(t, "[Unit]\nDescription=imq pipeline {}", p.name)?;
    writeln!(t, "Wants={}", wants.join(" "))?;
    writeln!(t, "\n[Install]\nWantedBy=multi-user.target")?;
    out.push((target, t));
    Ok(out)
}

/// The stage's dump (unless its command has its own) and `--stats` file in the
/// state directory, as `run` gives them.
fn state_args(s: &super::config::Stage, state_dir: &Path, idx: u32, argv: &mut Vec<String>) {
    if !s
        .argv
        .iter()
        .any(|a| a == "--dump" || a.starts_with("--dump="))
    {
        argv.push("--dump".into());
        argv.push(state::dump_file(state_dir, &s.name).display().to_string());
    }
    argv.push("--stats".into());
    argv.push(
        state::stats_file(state_dir, &s.name, idx)
            .display()
            .to_string(),
    );
    argv.push("--stats-format".into());
    argv.push("json".into());
}

/// A broker pipeline's units for one stage: a `.service` per worker reading and
/// writing the broker's queues (the queue URIs in `Environment=`, not on the
/// command line: the unit is where a password would show), and the timer of a
/// scheduled collector. No sockets: the broker holds what waits.
#[allow(clippy::too_many_arguments)]
fn broker_units(
    p: &Pipeline,
    s: &super::config::Stage,
    opts: &UnitOpts,
    dir: &Path,
    state_dir: &Path,
    target: &str,
    out: &mut Vec<(String, String)>,
    wants: &mut Vec<String>,
) -> Result<()> {
    if !s.enabled {
        return Ok(());
    }
    let pre = unit_prefix(p);
    let source = p.is_source(&s.name);
    let t = &p.transport;
    for idx in 0..s.workers {
        let unit = if s.workers > 1 {
            format!("{pre}-{}-{idx}", s.name)
        } else {
            format!("{pre}-{}", s.name)
        };
        let mut argv: Vec<String> = vec![absolute_program(p, &s.argv[0])?.display().to_string()];
        argv.extend(s.argv[1..].iter().cloned());
        let mut env = Vec::new();
        if !source {
            if let Some(u) = t.queue_uri(&s.name, Some(idx)) {
                env.push(format!("IMQ_INPUT={u}"));
            }
        }
        for (path, targets) in &s.paths {
            for (k, to) in targets.iter().enumerate() {
                let Some(u) = t.queue_uri(to, None) else {
                    continue;
                };
                if path == "_default" && k == 0 {
                    env.push(format!("IMQ_OUTPUT={u}"));
                } else {
                    argv.push("--path".into());
                    argv.push(format!("{path}={u}"));
                }
            }
        }
        state_args(s, state_dir, idx, &mut argv);
        let exec: Vec<String> = argv.iter().map(|a| exec_word(a)).collect();
        let mut u = String::new();
        writeln!(
            u,
            "# Generated by imq-supervise units from {}",
            p.file.display()
        )?;
        writeln!(u, "[Unit]")?;
        writeln!(
            u,
            "Description=imq pipeline {} stage {} worker {idx} ({})",
            p.name,
            s.name,
            s.description.as_deref().unwrap_or(s.kind.name())
        )?;
        writeln!(u, "PartOf={target}")?;
        writeln!(u, "Wants=network-online.target")?;
        writeln!(u, "After=network-online.target")?;
        writeln!(u, "\n[Service]")?;
        let scheduled = s.schedule.is_some();
        writeln!(u, "Type={}", if scheduled { "oneshot" } else { "simple" })?;
        for e in &env {
            writeln!(u, "Environment={}", env_word(e))?;
        }
        writeln!(u, "ExecStart={}", exec.join(" "))?;
        writeln!(u, "WorkingDirectory={}", dir.display())?;
        // Any exit of a queue reader is a failure to restart from; SIGTERM
        // (systemctl stop) commits what it holds and exits 0.
        writeln!(
            u,
            "Restart={}",
            if source { "on-failure" } else { "always" }
        )?;
        writeln!(u, "RestartSec={}ms", p.restart_delay.as_millis())?;
        writeln!(u, "SuccessExitStatus=1")?;
        if let Some(user) = &opts.user {
            writeln!(u, "User={user}")?;
        }
        writeln!(
            u,
            "ReadWritePaths={} {}",
            dir.display(),
            state_dir.display()
        )?;
        u.push_str(HARDENING);
        writeln!(u, "SyslogIdentifier={}", s.name)?;
        if !scheduled {
            writeln!(u, "\n[Install]\nWantedBy={target}")?;
            wants.push(format!("{unit}.service"));
        }
        out.push((format!("{unit}.service"), u));
        if let Some(sch) = &s.schedule {
            out.push((format!("{unit}.timer"), timer(p, s, sch, &unit, target)?));
            wants.push(format!("{unit}.timer"));
        }
    }
    Ok(())
}

/// The `.timer` of a scheduled collector.
fn timer(
    p: &Pipeline,
    s: &super::config::Stage,
    sch: &Schedule,
    unit: &str,
    target: &str,
) -> Result<String> {
    let mut t = String::new();
    writeln!(
        t,
        "# Generated by imq-supervise units from {}",
        p.file.display()
    )?;
    writeln!(
        t,
        "[Unit]\nDescription=imq pipeline {} collector {} schedule ({})\nPartOf={target}\n",
        p.name,
        s.name,
        s.schedule_text.as_deref().unwrap_or("")
    )?;
    writeln!(t, "[Timer]")?;
    match sch {
        Schedule::Every(d) => {
            writeln!(t, "OnActiveSec=1s")?;
            writeln!(t, "OnUnitActiveSec={}ms", d.as_millis())?;
        }
        Schedule::Cron(c) => {
            for cal in c.on_calendar() {
                writeln!(t, "OnCalendar={cal}")?;
            }
            writeln!(t, "Persistent=yes")?;
        }
    }
    writeln!(t, "AccuracySec=1s")?;
    writeln!(t, "Unit={unit}.service")?;
    writeln!(t, "\n[Install]\nWantedBy={target}")?;
    Ok(t)
}

/// Write the units into `dir`; returns the instructions to print.
pub fn write(p: &Pipeline, dir: &Path, opts: &UnitOpts) -> Result<String> {
    let us = units(p, opts)?;
    std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    for (name, text) in &us {
        std::fs::write(dir.join(name), text).with_context(|| name.clone())?;
    }
    let state_dir = std::path::absolute(&p.state_dir)?;
    let names: Vec<&str> = us.iter().map(|(n, _)| n.as_str()).collect();
    Ok(format!(
        "wrote {} units to {}:\n  {}\n\nto enable them:\n  mkdir -p {}\n  cp {}/imq-{}* /etc/systemd/system/\n  systemctl daemon-reload\n  systemctl enable --now imq-{}.target\n\nthen: systemctl status 'imq-{}-*'  /  journalctl -u 'imq-{}-*' -f\n",
        us.len(),
        dir.display(),
        names.join("\n  "),
        state_dir.display(),
        dir.display(),
        p.name,
        p.name,
        p.name,
        p.name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_quoting() {
        assert_eq!(exec_word("imq-parse"), "imq-parse");
        assert_eq!(exec_word("a b"), "\"a b\"");
        assert_eq!(exec_word("x == \"y\""), "\"x == \\\"y\\\"\"");
        assert_eq!(exec_word("100%"), "\"100%%\"");
        assert_eq!(exec_word("$HOME"), "\"$$HOME\"");
    }

    #[test]
    fn refuses_what_needs_relays() {
        let p = Pipeline::parse(
            "[pipeline]\nbin_dir=\"/bin\"\n[stage.a]\ncommand=\"imq-parse\"\nto=[\"b\",\"c\"]\n[stage.b]\ncommand=\"imq-output json\"\n[stage.c]\ncommand=\"imq-output json\"\n",
            Path::new("/x/p.toml"),
        )
        .unwrap();
        let e = units(
            &p,
            &UnitOpts {
                user: None,
                fifo_dir: None,
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("copies need the supervisor"), "{e}");
    }

    #[test]
    fn broker_units_read_and_write_queues() {
        let p = Pipeline::parse(
            "[pipeline]\nname=\"t\"\nbin_dir=\"/bin\"\ntransport=\"redis://:pw@127.0.0.1:6379/2\"\n\
             [stage.a]\ncommand=\"imq-parse\"\nto=[\"b\",\"c\"]\n\
             [stage.b]\ncommand=\"imq-enrich taxonomy\"\nworkers=2\nto=[\"c\"]\n\
             [stage.c]\ncommand=\"imq-output json\"\n",
            Path::new("/x/p.toml"),
        )
        .unwrap();
        let us = units(
            &p,
            &UnitOpts {
                user: None,
                fifo_dir: None,
            },
        )
        .unwrap();
        let names: Vec<&str> = us.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "imq-t-a.service",
                "imq-t-b-0.service",
                "imq-t-b-1.service",
                "imq-t-c.service",
                "imq-t.target"
            ]
        );
        let a = &us[0].1;
        assert!(
            a.contains("Environment=\"IMQ_OUTPUT=redis://:pw@127.0.0.1:6379/2/b-queue\""),
            "{a}"
        );
        assert!(
            a.contains("--path _default=redis://:pw@127.0.0.1:6379/2/c-queue"),
            "{a}"
        );
        assert!(!a.contains("IMQ_INPUT"), "{a}");
        let b1 = &us[2].1;
        assert!(
            b1.contains(
                "Environment=\"IMQ_INPUT=redis://:pw@127.0.0.1:6379/2/b-queue?consumer=1\""
            ),
            "{b1}"
        );
        assert!(b1.contains("/b.1.json"), "{b1}");
        assert!(!us.iter().any(|(n, _)| n.ends_with(".socket")));
    }
}
