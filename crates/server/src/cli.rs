//! The `xuegong` command line: run the service, migrate, and administer districts, schools and
//! platform accounts. Output is for operators (English); the portal is Chinese.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use secrecy::ExposeSecret;
use xg_audit::Actor;
use xg_kernel::config::Config;
use xg_kernel::db::MIGRATOR;
use xg_kernel::{Db, Slug, isolation, password};
use xg_storage::Storage;
use xg_tenancy::accounts::{self, AccountError, PlatformRole};
use xg_tenancy::onboard::OnboardError;
use xg_tenancy::{Manifest, SchoolStatus, onboard, registry};

use crate::observe;
use xg_web::AppState;
use xg_web::session::SessionKeys;

#[derive(Parser)]
#[command(
    name = "xuegong",
    version,
    about = "Xuegong (学工) multi-school student-affairs platform"
)]
pub struct Cli {
    /// Optional TOML configuration file; XUEGONG_* environment variables override it.
    #[arg(long, global = true, env = "XUEGONG_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the HTTP service (checks tenant isolation first and refuses to start if unsafe).
    Serve,
    /// Apply database migrations as the owner role (XUEGONG_MIGRATE_DATABASE_URL).
    Migrate,
    /// Check that the service role and schema keep schools apart; exit 1 if not.
    Check,
    /// Districts (education bureaus): create, list.
    #[command(subcommand)]
    District(DistrictCommand),
    /// Schools (tenants): onboard from manifests, list, suspend, resume.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Platform accounts (operators, district staff).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Audit logs: verify a hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Student records: roster import, demo data.
    #[command(subcommand)]
    Students(crate::cli_students::StudentsCommand),
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Re-compute a hash chain and report the first tampered entry; exit 1 if broken.
    Verify {
        /// The school's slug; without it, the platform chain is verified.
        slug: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum DistrictCommand {
    /// Create a district (education bureau).
    Create {
        slug: String,
        name: String,
        /// Succeed without changes if the district already exists.
        #[arg(long)]
        if_missing: bool,
    },
    List,
}

#[derive(Subcommand)]
pub enum TenantCommand {
    /// Onboard schools from manifests (idempotent; each file is one transaction).
    Onboard {
        #[arg(required = true)]
        manifests: Vec<PathBuf>,
        /// Skip schools that already exist (a local stack's restart must not undo a school's
        /// own edits to its org tree).
        #[arg(long)]
        only_new: bool,
    },
    List {
        /// Only this district's schools.
        #[arg(long)]
        district: Option<String>,
    },
    Suspend {
        slug: String,
    },
    Resume {
        slug: String,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Operator,
    DistrictAdmin,
}

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create a platform account. The password comes from XUEGONG_NEW_PASSWORD, or is
    /// generated and printed once.
    Create {
        username: String,
        #[arg(long)]
        role: RoleArg,
        #[arg(long)]
        display_name: String,
        /// Required for district admins: the district's slug.
        #[arg(long)]
        district: Option<String>,
        #[arg(long)]
        if_missing: bool,
    },
}

/// Runs the parsed command; errors are printed for the operator and become exit code 1.
pub async fn run(cli: Cli) -> ExitCode {
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the parsed command. Public so tests can drive the CLI in-process.
pub async fn execute(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(&config).await,
        Command::Check => {
            let db = connect(&config).await?;
            let mut conn = db.pool().acquire().await?;
            isolation::verify_service_connection(&mut conn).await?;
            println!(
                "ok: the service role owns nothing, cannot bypass RLS, and every tenant table is isolated"
            );
            Ok(())
        }
        Command::District(cmd) => district(&config, cmd).await,
        Command::Tenant(cmd) => tenant(&config, cmd).await,
        Command::Account(cmd) => account(&config, cmd).await,
        Command::Audit(AuditCommand::Verify { slug }) => verify_audit(&config, slug).await,
        Command::Students(cmd) => {
            let db = connect(&config).await?;
            crate::cli_students::run(&config, db, cmd, cli_actor()).await
        }
    }
}

/// The audit actor for commands: the CLI and the operating-system user who ran it.
fn cli_actor() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    Actor::system(&xg_kernel::i18n::Catalog::zh().fmt("audit.cli", &[("user", &user)]))
}

async fn connect(config: &Config) -> anyhow::Result<Db> {
    let url = config.require_database_url()?;
    Db::connect(url, config.database_pool_size)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database (database_url): {e}"))
}

async fn serve(config: Config) -> anyhow::Result<()> {
    observe::init_tracing(&config.log_format);
    let metrics = observe::init_metrics();
    let secret = config.require_session_secret()?.clone();
    config.require_master_key()?;
    let sessions = SessionKeys::new(&secret, config.session_secret_previous.as_ref())?;
    let db = connect(&config).await?;
    {
        let mut conn = db.pool().acquire().await?;
        isolation::verify_service_connection(&mut conn).await?;
    }
    let storage = Storage::from_config(&config.storage).await?;
    storage.check().await.map_err(|e| anyhow::anyhow!("attachment storage is not usable: {e}"))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    tracing::info!(listen = %config.listen, storage = storage.backend_name(), "xuegong serving");
    let state = AppState::new(db, storage, sessions, config, metrics);
    crate::serve(state, listener).await?;
    Ok(())
}

async fn verify_audit(config: &Config, slug: Option<String>) -> anyhow::Result<()> {
    let db = connect(config).await?;
    let mut tx = db.platform().await?;
    let (chain, report) = match slug {
        None => ("platform".to_owned(), xg_audit::verify_platform(tx.conn()).await?),
        Some(slug) => {
            let school = registry::find_school(tx.conn(), &slug)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no school with slug '{slug}'"))?;
            let mut tx = tx.enter_tenant(school.id).await?;
            (format!("school {slug}"), xg_audit::verify(&mut tx).await?)
        }
    };
    match report.first_broken {
        None => {
            println!("ok: {chain} audit chain intact ({} entries)", report.entries);
            Ok(())
        }
        Some(seq) => anyhow::bail!(
            "{chain} audit chain is broken at entry {seq} of {}: it or an earlier entry was \
             altered or removed",
            report.entries
        ),
    }
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let url = config.require_migrate_url()?;
    let pool = sqlx::PgPool::connect(url.expose_secret()).await.map_err(|e| {
        anyhow::anyhow!("cannot connect as the owner role (migrate_database_url): {e}")
    })?;
    let before: i64 = applied_migrations(&pool).await;
    MIGRATOR.run(&pool).await?;
    let after = applied_migrations(&pool).await;
    match after - before {
        0 => println!("ok: database is up to date ({after} migrations)"),
        n => println!("ok: applied {n} new migrations ({after} in all)"),
    }
    Ok(())
}

async fn applied_migrations(pool: &sqlx::PgPool) -> i64 {
    // Before the first run the history table does not exist yet.
    sqlx::query_scalar("select count(*) from _sqlx_migrations where success")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

async fn district(config: &Config, cmd: DistrictCommand) -> anyhow::Result<()> {
    let db = connect(config).await?;
    let mut tx = db.platform().await?;
    match cmd {
        DistrictCommand::Create { slug, name, if_missing } => {
            let slug = Slug::parse(&slug)?;
            match registry::create_district(tx.conn(), &cli_actor(), &slug, &name).await {
                Ok(d) => println!("created district {} ({})", d.slug, d.name),
                Err(registry::RegistryError::DistrictExists(s)) if if_missing => {
                    println!("district {s} already exists; unchanged")
                }
                Err(e) => return Err(e.into()),
            }
        }
        DistrictCommand::List => {
            for d in registry::list_districts(tx.conn()).await? {
                println!("{}\t{}", d.slug, d.name);
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

async fn tenant(config: &Config, cmd: TenantCommand) -> anyhow::Result<()> {
    let db = connect(config).await?;
    match cmd {
        TenantCommand::Onboard { manifests, only_new } => {
            onboard_files(&db, &manifests, only_new).await
        }
        TenantCommand::List { district } => {
            let mut tx = db.platform().await?;
            let filter = match district {
                Some(slug) => Some(
                    registry::find_district(tx.conn(), &slug)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("no district with slug '{slug}'"))?
                        .id,
                ),
                None => None,
            };
            println!("slug\tstatus\tkind\tname\tmodules");
            for s in registry::list_schools(tx.conn(), filter).await? {
                let modules: Vec<&str> = s.modules.iter().map(|m| m.key()).collect();
                println!("{}\t{}\t{}\t{}\t{}", s.slug, s.status, s.kind, s.name, modules.join(","));
            }
            Ok(())
        }
        TenantCommand::Suspend { slug } => set_status(&db, &slug, SchoolStatus::Suspended).await,
        TenantCommand::Resume { slug } => set_status(&db, &slug, SchoolStatus::Active).await,
    }
}

async fn onboard_files(db: &Db, files: &[PathBuf], only_new: bool) -> anyhow::Result<()> {
    let mut failed = 0;
    for path in files {
        let manifest = match Manifest::from_file(path) {
            Ok(m) => m,
            Err(errors) => {
                errors.iter().for_each(|e| eprintln!("error: {e}"));
                failed += 1;
                continue;
            }
        };
        if only_new {
            let mut tx = db.platform().await?;
            if registry::find_school(tx.conn(), manifest.slug.as_str()).await?.is_some() {
                println!("{}: {} exists; skipped (--only-new)", path.display(), manifest.slug);
                continue;
            }
        }
        match onboard(db, &cli_actor(), &manifest).await {
            Ok(r) if !r.changed_anything() => {
                println!("{}: {} unchanged", path.display(), r.school.slug)
            }
            Ok(r) => {
                println!(
                    "{}: {} {} (units +{} ~{}, roles +{}, levels set {}, staff +{})",
                    path.display(),
                    r.school.slug,
                    if r.school_created { "created" } else { "updated" },
                    r.units_created,
                    r.units_updated,
                    r.roles_created,
                    r.levels_changed,
                    r.staff_created,
                );
                if let Some(p) = r.generated_admin_password {
                    println!("  first admin '{}' initial password: {p}", manifest.admin_username);
                }
            }
            Err(OnboardError::Manifest(errors)) => {
                errors.iter().for_each(|e| eprintln!("error: {e}"));
                failed += 1;
            }
            Err(OnboardError::Internal(e)) => {
                eprintln!("error: {}: onboarding failed, nothing was saved: {e:#}", path.display());
                failed += 1;
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} manifests were not onboarded", files.len());
    }
    Ok(())
}

async fn set_status(db: &Db, slug: &str, status: SchoolStatus) -> anyhow::Result<()> {
    let mut tx = db.platform().await?;
    let school = registry::set_status(tx.conn(), &cli_actor(), slug, status)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no school with slug '{slug}'"))?;
    tx.commit().await?;
    println!("{} is now {}", school.slug, school.status);
    Ok(())
}

async fn account(config: &Config, cmd: AccountCommand) -> anyhow::Result<()> {
    let AccountCommand::Create { username, role, display_name, district, if_missing } = cmd;
    let db = connect(config).await?;
    let mut tx = db.platform().await?;
    let role = match role {
        RoleArg::Operator => PlatformRole::Operator,
        RoleArg::DistrictAdmin => PlatformRole::DistrictAdmin,
    };
    let district_id = match &district {
        Some(slug) => Some(
            registry::find_district(tx.conn(), slug)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no district with slug '{slug}'"))?
                .id,
        ),
        None => None,
    };
    let (secret, generated) = match std::env::var("XUEGONG_NEW_PASSWORD") {
        Ok(p) if p.chars().count() >= password::MIN_LENGTH => (p, false),
        Ok(_) => anyhow::bail!(
            "XUEGONG_NEW_PASSWORD must be at least {} characters",
            password::MIN_LENGTH
        ),
        Err(_) => (password::generate_initial(), true),
    };
    let hash =
        tokio::task::spawn_blocking(move || password::hash(&secret).map(|h| (h, secret))).await??;
    let new = accounts::NewPlatformAccount {
        username: &username,
        display_name: &display_name,
        password_hash: &hash.0,
        role,
        district: district_id,
        must_change_password: generated,
    };
    match accounts::create_platform_account(tx.conn(), &cli_actor(), new).await {
        Ok(_) => {
            tx.commit().await?;
            println!("created {} account '{username}'", role.key());
            if generated {
                println!("  initial password (shown once): {}", hash.1);
            }
            Ok(())
        }
        Err(AccountError::Exists(u)) if if_missing => {
            println!("account '{u}' already exists; unchanged");
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}
