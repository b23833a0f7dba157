//! `gapwatch user add|list|remove|passwd|token`: console accounts in the state folder.

use anyhow::{bail, Context, Result};
use console::accounts::{generate_password, Accounts, Role};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

fn open(state: &Path) -> Result<Accounts> {
    Ok(Accounts::open(state, Arc::new(console::SystemClock))?)
}

/// Reads a line from the terminal without echo.
fn read_hidden(prompt: &str) -> Result<String> {
    let mut stderr = std::io::stderr();
    write!(stderr, "{prompt}")?;
    stderr.flush()?;
    let fd = libc::STDIN_FILENO;
    // SAFETY: termios is plain data; tcgetattr fills it for a terminal descriptor.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: `fd` is stdin and `saved` is a valid termios to fill.
    let have_tty = unsafe { libc::tcgetattr(fd, &mut saved) } == 0;
    if have_tty {
        let mut quiet = saved;
        quiet.c_lflag &= !libc::ECHO;
        // SAFETY: sets attributes read above with echo off.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    }
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if have_tty {
        // SAFETY: restores the attributes read above.
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
        writeln!(stderr)?;
    }
    read.context("reading the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// A password: generated and printed once, or typed twice on a terminal.
fn obtain_password(generate: bool) -> Result<(String, bool)> {
    if generate {
        return Ok((generate_password(), true));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to type a password on: use --generate");
    }
    let first = read_hidden("Password: ")?;
    let second = read_hidden("Password again: ")?;
    if first != second {
        bail!("the passwords differ");
    }
    Ok((first, false))
}

/// `gapwatch user add NAME --role ROLE`.
pub fn add(state: &Path, name: &str, role: Role, generate: bool) -> Result<()> {
    let accounts = open(state)?;
    let (password, generated) = obtain_password(generate)?;
    accounts.add_user(name, role, &password)?;
    accounts.audit("cli", None, "user_add", &format!("added {name} as {role}"))?;
    if generated {
        println!("user {name} ({role}) added; password (shown once): {password}");
    } else {
        println!("user {name} ({role}) added");
    }
    Ok(())
}

/// `gapwatch user list`.
pub fn list(state: &Path) -> Result<()> {
    for user in open(state)?.users()? {
        println!("{:<24} {}", user.name, user.role);
    }
    Ok(())
}

/// `gapwatch user remove NAME`.
pub fn remove(state: &Path, name: &str) -> Result<()> {
    let accounts = open(state)?;
    if !accounts.remove_user(name)? {
        bail!("no user {name:?}");
    }
    accounts.audit("cli", None, "user_remove", &format!("removed {name}"))?;
    println!("user {name} removed");
    Ok(())
}

/// `gapwatch user passwd NAME`.
pub fn passwd(state: &Path, name: &str, generate: bool) -> Result<()> {
    let accounts = open(state)?;
    let (password, generated) = obtain_password(generate)?;
    if !accounts.set_password(name, &password)? {
        bail!("no user {name:?}");
    }
    accounts.audit(
        "cli",
        None,
        "user_passwd",
        &format!("new password for {name}"),
    )?;
    if generated {
        println!("new password for {name} (shown once): {password}");
    } else {
        println!("password for {name} changed; their sessions ended");
    }
    Ok(())
}

/// `gapwatch user token NAME`.
pub fn token(state: &Path, name: &str) -> Result<()> {
    let accounts = open(state)?;
    let token = accounts.issue_token(name)?;
    accounts.audit("cli", None, "token_issue", &format!("API token for {name}"))?;
    println!("{token}");
    Ok(())
}
