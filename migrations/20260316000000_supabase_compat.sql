-- supabase compatibility layer
--
-- kilat's migrations are written for supabase: they assume the api roles
-- (anon, authenticated, service_role), the auth / storage / extensions
-- schemas, auth.users, auth.uid() and friends, storage.buckets/objects, the
-- supabase_realtime publication and supabase's default privileges. plain
-- postgresql 15 has none of that, so this file creates the missing pieces —
-- and only the missing pieces — so that the very same ten migrations that
-- follow apply unchanged to a real supabase project and to a local cluster.
--
-- two rules keep this file harmless on real supabase:
--
--   1. every object is created only when absent (checked in the catalogs,
--      never with "create ... if not exists" alone, so that grants and
--      comments that go with an object are not re-applied either).
--   2. the "managed" gate: on supabase the auth schema already exists and is
--      owned by supabase_admin, not by the role running migrations
--      (postgres). when we find an auth schema we do not own, this whole file
--      does nothing at all — not even "harmless" grants or default
--      privileges, because a project owner may have tightened those on
--      purpose and we must not loosen them again. the gate is repeated at the
--      top of every block below (a do block cannot share variables with the
--      next one, and a transaction-local setting would silently vanish when
--      someone runs the file statement by statement).
--
-- existence checks read pg_catalog directly instead of to_regclass() /
-- to_regprocedure(): those helpers raise "permission denied for schema" when
-- the current role lacks usage on a schema it does not own, while the
-- catalogs are readable by everyone.
--
-- the shapes below mirror what supabase ships today (gotrue's and
-- storage-api's own migrations, as seen in pg_dump output of hosted
-- projects): same column names, types, defaults, constraint and index names,
-- so that the local auth/storage stand-ins can run the same sql as gotrue and
-- storage-api would. they are the subset kilat needs, not the whole of
-- supabase (no mfa, saml, oauth-server or s3 tables).
--
-- sqlx runs this file inside one transaction; it must stay free of
-- "create index concurrently" and explicit begin/commit.


-- ---------------------------------------------------------------------------
-- roles
-- ---------------------------------------------------------------------------
-- anon is the role of an unauthenticated api request, authenticated the role
-- of a request carrying a user's jwt, service_role the role of the service
-- key (bypassrls: it is trusted to see everything). all three are nologin:
-- nobody connects as them, a trusted login role "set role"s into them. on
-- supabase that login role is authenticator (postgrest) and, for kilat's own
-- server, postgres; here it is whoever runs the migrations, so that role must
-- be able to "set role" into all three.
do $$
declare
  api_role text;
begin
  if exists (
    select 1 from pg_catalog.pg_namespace n
    where n.nspname = 'auth'
      and n.nspowner <> (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user)
  ) then
    raise notice 'supabase_compat: schema auth is managed by another role (real supabase?); changing nothing';
    return;
  end if;

  -- roles belong to the whole cluster, not to this database: databases of one
  -- cluster migrated at the same moment (parallel tests, two fresh
  -- environments) race to create them. the loser of that race waits for the
  -- winner's commit and then fails on the catalog's unique index; either way
  -- the role exists afterwards, which is all this needs.
  foreach api_role in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (select 1 from pg_catalog.pg_roles where rolname = api_role) then
      begin
        execute pg_catalog.format(
          'create role %I nologin%s',
          api_role,
          case when api_role = 'service_role' then ' bypassrls' else '' end
        );
      exception when duplicate_object or unique_violation then
        null;
      end;
    end if;
  end loop;

  -- pg_has_role(..., 'member') is true for superusers and for existing
  -- (direct or indirect) members, i.e. exactly when "set role" already works;
  -- only then is a grant unnecessary.
  foreach api_role in array array['anon', 'authenticated', 'service_role'] loop
    if not pg_catalog.pg_has_role(current_user, api_role, 'member') then
      begin
        execute pg_catalog.format('grant %I to %I', api_role, current_user);
      exception when unique_violation then
        null;
      end;
    end if;
  end loop;
end
$$;


-- ---------------------------------------------------------------------------
-- schemas: extensions (with pgcrypto), auth, storage
-- ---------------------------------------------------------------------------
-- supabase keeps extensions out of public so they are not exposed through
-- the rest api. pgcrypto is there for crypt()/gen_salt() (bcrypt, the
-- password hash gotrue uses) so local seed scripts can create real users;
-- nothing in kilat's own migrations depends on it (gen_random_uuid() is core
-- since postgresql 13).
do $$
begin
  if exists (
    select 1 from pg_catalog.pg_namespace n
    where n.nspname = 'auth'
      and n.nspowner <> (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user)
  ) then
    return;
  end if;

  if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'extensions') then
    create schema extensions;
    grant usage on schema extensions to anon, authenticated, service_role;
  end if;

  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pgcrypto') then
    if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pgcrypto') then
      create extension pgcrypto with schema extensions;
    else
      -- a cluster built without contrib still runs every kilat migration;
      -- only bcrypt-in-sql seeding is lost, so warn instead of failing.
      raise warning 'supabase_compat: pgcrypto is not available on this server; extensions.crypt() will be missing';
    end if;
  end if;

  -- usage (not create) is what supabase grants: the api roles may call
  -- auth.uid() and have storage policies evaluated, nothing more.
  if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'auth') then
    create schema auth;
    grant usage on schema auth to anon, authenticated, service_role;
  end if;

  if not exists (select 1 from pg_catalog.pg_namespace where nspname = 'storage') then
    create schema storage;
    grant usage on schema storage to anon, authenticated, service_role;
  end if;
end
$$;


-- ---------------------------------------------------------------------------
-- auth: types, users, identities, sessions, refresh tokens, one-time tokens,
-- pkce flow state, and the jwt helper functions
-- ---------------------------------------------------------------------------
-- users is what every kilat migration hangs off (signup triggers, foreign
-- keys). the other tables are what a local auth stand-in needs to behave like
-- gotrue: identities (email / google), sessions + rotating refresh tokens
-- (refresh is single use, logout scopes), one_time_tokens (confirmation,
-- recovery, magic link) and flow_state (oauth pkce codes). column names and
-- types follow gotrue's, so code written against the stand-in reads the same
-- rows it would find on supabase.
do $$
begin
  if exists (
    select 1 from pg_catalog.pg_namespace n
    where n.nspname = 'auth'
      and n.nspowner <> (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user)
  ) then
    return;
  end if;

  -- enum types used by the tables below (names and labels as in gotrue).
  if not exists (
    select 1 from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
    where n.nspname = 'auth' and t.typname = 'aal_level'
  ) then
    create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
  end if;

  if not exists (
    select 1 from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
    where n.nspname = 'auth' and t.typname = 'code_challenge_method'
  ) then
    create type auth.code_challenge_method as enum ('s256', 'plain');
  end if;

  if not exists (
    select 1 from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
    where n.nspname = 'auth' and t.typname = 'one_time_token_type'
  ) then
    create type auth.one_time_token_type as enum (
      'confirmation_token',
      'reauthentication_token',
      'recovery_token',
      'email_change_token_new',
      'email_change_token_current',
      'phone_change_token'
    );
  end if;

  -- auth.users, column for column as gotrue leaves it. id has no default on
  -- purpose: gotrue always supplies it, and so must anything imitating it.
  if not exists (
    select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'auth' and c.relname = 'users'
  ) then
    create table auth.users (
      instance_id uuid,
      id uuid not null,
      aud character varying(255),
      role character varying(255),
      email character varying(255),
      encrypted_password character varying(255),
      email_confirmed_at timestamp with time zone,
      invited_at timestamp with time zone,
      confirmation_token character varying(255),
      confirmation_sent_at timestamp with time zone,
      recovery_token character varying(255),
      recovery_sent_at timestamp with time zone,
      email_change_token_new character varying(255),
      email_change character varying(255),
      email_change_sent_at timestamp with time zone,
      last_sign_in_at timestamp with time zone,
      raw_app_meta_data jsonb,
      raw_user_meta_data jsonb,
      is_super_admin boolean,
      created_at timestamp with time zone,
      updated_at timestamp with time zone,
      phone text default null::character varying,
      phone_confirmed_at timestamp with time zone,
      phone_change text default ''::character varying,
      phone_change_token character varying(255) default ''::character varying,
      phone_change_sent_at timestamp with time zone,
      confirmed_at timestamp with time zone generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
      email_change_token_current character varying(255) default ''::character varying,
      email_change_confirm_status smallint default 0,
      banned_until timestamp with time zone,
      reauthentication_token character varying(255) default ''::character varying,
      reauthentication_sent_at timestamp with time zone,
      is_sso_user boolean default false not null,
      deleted_at timestamp with time zone,
      is_anonymous boolean default false not null,
      constraint users_pkey primary key (id),
      constraint users_phone_key unique (phone),
      constraint users_email_change_confirm_status_check
        check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2)
    );

    comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
    comment on column auth.users.is_sso_user is 'Auth: Set this column to true when the account comes from SSO. These accounts can have duplicate emails.';

    -- one account per email address, except sso accounts (whose address
    -- belongs to the identity provider). same name as gotrue's, so a
    -- duplicate signup fails with the same constraint name locally.
    create unique index users_email_partial_key on auth.users (email) where (is_sso_user = false);
    comment on index auth.users_email_partial_key is 'Auth: A partial unique index that applies only when is_sso_user is false';

    -- tokens are unique when they are real tokens; gotrue stores '' (or
    -- digits-only otp codes) for "none", which must not collide.
    create unique index confirmation_token_idx on auth.users (confirmation_token)
      where ((confirmation_token)::text !~ '^[0-9 ]*$'::text);
    create unique index recovery_token_idx on auth.users (recovery_token)
      where ((recovery_token)::text !~ '^[0-9 ]*$'::text);
    create unique index email_change_token_current_idx on auth.users (email_change_token_current)
      where ((email_change_token_current)::text !~ '^[0-9 ]*$'::text);
    create unique index email_change_token_new_idx on auth.users (email_change_token_new)
      where ((email_change_token_new)::text !~ '^[0-9 ]*$'::text);
    create unique index reauthentication_token_idx on auth.users (reauthentication_token)
      where ((reauthentication_token)::text !~ '^[0-9 ]*$'::text);

    create index users_instance_id_idx on auth.users (instance_id);
    create index users_instance_id_email_idx on auth.users (instance_id, lower((email)::text));
    create index users_is_anonymous_idx on auth.users (is_anonymous);
  end if;

  -- one row per (provider, provider's user id): the "email" identity and,
  -- after a google sign-in, the "google" one.
  if not exists (
    select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'auth' and c.relname = 'identities'
  ) then
    create table auth.identities (
      provider_id text not null,
      user_id uuid not null,
      identity_data jsonb not null,
      provider text not null,
      last_sign_in_at timestamp with time zone,
      created_at timestamp with time zone,
      updated_at timestamp with time zone,
      email text generated always as (lower((identity_data ->> 'email'::text))) stored,
      id uuid default gen_random_uuid() not null,
      constraint identities_pkey primary key (id),
      constraint identities_provider_id_provider_unique unique (provider_id, provider),
      constraint identities_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
    );
    comment on table auth.identities is 'Auth: Stores identities associated to a user.';
    create index identities_user_id_idx on auth.identities (user_id);
    create index identities_email_idx on auth.identities (email text_pattern_ops);
  end if;

  -- a session is one signed-in device; access tokens carry its id as
  -- session_id, and logout?scope=local|others|global deletes sessions.
  if not exists (
    select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'auth' and c.relname = 'sessions'
  ) then
    create table auth.sessions (
      id uuid not null,
      user_id uuid not null,
      created_at timestamp with time zone,
      updated_at timestamp with time zone,
      factor_id uuid,
      aal auth.aal_level,
      not_after timestamp with time zone,
      refreshed_at timestamp without time zone,
      user_agent text,
      ip inet,
      tag text,
      -- gotrue's oauth-server feature points this at auth.oauth_clients,
      -- which the stand-in does not have; the column stays for shape only.
      oauth_client_id uuid,
      refresh_token_hmac_key text,
      refresh_token_counter bigint,
      constraint sessions_pkey primary key (id),
      constraint sessions_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
    );
    comment on table auth.sessions is 'Auth: Stores session data associated to a user.';
    comment on column auth.sessions.not_after is 'Auth: Not after is a nullable column that contains a timestamp after which the session should be regarded as expired.';
    create index sessions_user_id_idx on auth.sessions (user_id);
    create index user_id_created_at_idx on auth.sessions (user_id, created_at);
    create index sessions_not_after_idx on auth.sessions (not_after desc);
  end if;

  -- refresh tokens rotate: each use revokes the token and issues a child
  -- whose parent is the old token, all within one session.
  if not exists (
    select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'auth' and c.relname = 'refresh_tokens'
  ) then
    create table auth.refresh_tokens (
      instance_id uuid,
      id bigserial not null,
      token character varying(255),
      -- text, not uuid, in gotrue too (a historical quirk worth keeping:
      -- code that compares it to a uuid must cast, here as there).
      user_id character varying(255),
      revoked boolean,
      created_at timestamp with time zone,
      updated_at timestamp with time zone,
      parent character varying(255),
      session_id uuid,
      constraint refresh_tokens_pkey primary key (id),
      constraint refresh_tokens_token_unique unique (token),
      constraint refresh_tokens_session_id_fkey foreign key (session_id) references auth.sessions (id) on delete cascade
    );
    comment on table auth.refresh_tokens is 'Auth: Store of tokens used to refresh JWT tokens once they expire.';
    create index refresh_tokens_instance_id_idx on auth.refresh_tokens (instance_id);
    create index refresh_tokens_instance_id_user_id_idx on auth.refresh_tokens (instance_id, user_id);
    create index refresh_tokens_parent_idx on auth.refresh_tokens (parent);
    create index refresh_tokens_session_id_revoked_idx on auth.refresh_tokens (session_id, revoked);
    create index refresh_tokens_updated_at_idx on auth.refresh_tokens (updated_at desc);
  end if;

  -- hashed confirmation / recovery / magic-link tokens, at most one live
  -- token of each kind per user.
  if not exists (
    select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'auth' and c.relname = 'one_time_tokens'
  ) then
    create table auth.one_time_tokens (
      id uuid not null,
      user_id uuid not null,
      token_type auth.one_time_token_type not null,
      token_hash text not null,
      relates_to text not null,
      created_at timestamp without time zone default now() not null,
      updated_at timestamp without time zone default now() not null,
      constraint one_time_tokens_pkey primary key (id),
      constraint one_time_tokens_token_hash_check check (char_length(token_hash) > 0),
      constraint one_time_tokens_user_id_fkey foreign key (user_id) references auth.users (id) on delete cascade
    );
    create unique index one_time_tokens_user_id_token_type_key on auth.one_time_tokens (user_id, token_type);
    create index one_time_tokens_token_hash_hash_idx on auth.one_time_tokens using hash (token_hash);
    create index one_time_tokens_relates_to_hash_idx on auth.one_time_tokens using hash (relates_to);
  end if;

  -- pkce: /authorize stores the code challenge here, the provider callback
  -- fills in the auth code, /token?grant_type=pkce redeems it once.
  if not exists (
    select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'auth' and c.relname = 'flow_state'
  ) then
    create table auth.flow_state (
      id uuid not null,
      user_id uuid,
      auth_code text not null,
      code_challenge_method auth.code_challenge_method not null,
      code_challenge text not null,
      provider_type text not null,
      provider_access_token text,
      provider_refresh_token text,
      created_at timestamp with time zone,
      updated_at timestamp with time zone,
      authentication_method text not null,
      auth_code_issued_at timestamp with time zone,
      constraint flow_state_pkey primary key (id)
    );
    comment on table auth.flow_state is 'stores metadata for pkce logins';
    create index idx_auth_code on auth.flow_state (auth_code);
    create index idx_user_id_auth_method on auth.flow_state (user_id, authentication_method);
    create index flow_state_created_at_idx on auth.flow_state (created_at desc);
  end if;

  -- the jwt helpers, verbatim from supabase: postgrest (and kilat's
  -- user-scoped transactions) put the verified claims into
  -- request.jwt.claims; older postgrest versions set one
  -- request.jwt.claim.<name> setting per claim, which still wins when set.
  -- nullif(..., '') matters: a setting that was set once in a session reads
  -- back as '' afterwards, never as null.
  if not exists (
    select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'uid' and p.pronargs = 0
  ) then
    create function auth.uid() returns uuid
    language sql stable
    as $fn$
      select
      coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
      )::uuid
    $fn$;
    comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';
  end if;

  if not exists (
    select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'role' and p.pronargs = 0
  ) then
    create function auth.role() returns text
    language sql stable
    as $fn$
      select
      coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
      )::text
    $fn$;
    comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';
  end if;

  if not exists (
    select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'email' and p.pronargs = 0
  ) then
    create function auth.email() returns text
    language sql stable
    as $fn$
      select
      coalesce(
        nullif(current_setting('request.jwt.claim.email', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
      )::text
    $fn$;
    comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';
  end if;

  if not exists (
    select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'jwt' and p.pronargs = 0
  ) then
    create function auth.jwt() returns jsonb
    language sql stable
    as $fn$
      select
        coalesce(
            nullif(current_setting('request.jwt.claim', true), ''),
            nullif(current_setting('request.jwt.claims', true), '')
        )::jsonb
    $fn$;
  end if;
end
$$;


-- ---------------------------------------------------------------------------
-- storage: buckets, objects, foldername()
-- ---------------------------------------------------------------------------
-- the local storage stand-in keeps file bytes on disk and this metadata here,
-- exactly where storage-api keeps it, so the avatars bucket limits and the
-- storage.objects policies written by 20260317000007 are enforced the same
-- way locally and on supabase.
do $$
begin
  if exists (
    select 1 from pg_catalog.pg_namespace n
    where n.nspname = 'auth'
      and n.nspowner <> (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user)
  ) then
    return;
  end if;

  if not exists (
    select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'storage' and c.relname = 'buckets'
  ) then
    create table storage.buckets (
      id text not null,
      name text not null,
      owner uuid,
      created_at timestamp with time zone default now(),
      updated_at timestamp with time zone default now(),
      public boolean default false,
      avif_autodetection boolean default false,
      -- bytes; null means the project-wide limit.
      file_size_limit bigint,
      -- null means any type; entries may be wildcards like 'image/*'.
      allowed_mime_types text[],
      owner_id text,
      constraint buckets_pkey primary key (id)
    );
    comment on column storage.buckets.owner is 'Field is deprecated, use owner_id instead';
    create unique index bname on storage.buckets (name);

    -- on supabase the api roles hold all privileges on storage tables and rls
    -- decides; with no policy on buckets, users cannot list them.
    alter table storage.buckets enable row level security;
    grant all on table storage.buckets to anon, authenticated, service_role;
  end if;

  if not exists (
    select 1 from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'storage' and c.relname = 'objects'
  ) then
    create table storage.objects (
      id uuid default gen_random_uuid() not null,
      bucket_id text,
      name text,
      owner uuid,
      created_at timestamp with time zone default now(),
      updated_at timestamp with time zone default now(),
      last_accessed_at timestamp with time zone default now(),
      metadata jsonb,
      path_tokens text[] generated always as (string_to_array(name, '/'::text)) stored,
      version text,
      -- text, not uuid: storage-api stores the jwt's sub verbatim. compare
      -- it to auth.uid()::text, never to a uuid.
      owner_id text,
      user_metadata jsonb,
      constraint objects_pkey primary key (id),
      constraint "objects_bucketId_fkey" foreign key (bucket_id) references storage.buckets (id)
    );
    comment on column storage.objects.owner is 'Field is deprecated, use owner_id instead';
    create unique index bucketid_objname on storage.objects (bucket_id, name);
    create index name_prefix_search on storage.objects (name text_pattern_ops);

    -- every upload, download, sign and delete is decided by policies on this
    -- table; without rls the api roles' "grant all" would expose every file.
    alter table storage.objects enable row level security;
    grant all on table storage.objects to anon, authenticated, service_role;
  end if;

  -- 'a/b/c.png' -> {a,b}: the folders of an object path, used by policies as
  -- (storage.foldername(name))[1] = auth.uid()::text.
  if not exists (
    select 1 from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'storage' and p.proname = 'foldername'
  ) then
    create function storage.foldername(name text) returns text[]
    language plpgsql immutable
    as $fn$
    declare
        _parts text[];
    begin
        -- split on "/" to get path segments
        select string_to_array(name, '/') into _parts;
        -- return everything except the last segment
        return _parts[1 : array_length(_parts,1) - 1];
    end
    $fn$;
  end if;
end
$$;


-- ---------------------------------------------------------------------------
-- realtime publication and supabase's default privileges
-- ---------------------------------------------------------------------------
do $$
declare
  me oid := (select r.oid from pg_catalog.pg_roles r where r.rolname = current_user);
  api_role text;
begin
  if exists (
    select 1 from pg_catalog.pg_namespace n
    where n.nspname = 'auth' and n.nspowner <> me
  ) then
    return;
  end if;

  -- supabase creates it empty; tables opt in with
  -- "alter publication supabase_realtime add table ...". kilat adds none
  -- today, but migrations that do must find it. on a cluster with the
  -- default wal_level (replica) postgresql warns that it cannot publish
  -- yet; that is harmless here — nothing subscribes locally.
  if not exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;

  -- public's usage is granted to PUBLIC already; supabase also names the api
  -- roles explicitly, so a later "revoke ... from public" cannot lock them out.
  foreach api_role in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (
      select 1
      from pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
      where n.nspname = 'public'
        and a.grantee = (select r.oid from pg_catalog.pg_roles r where r.rolname = api_role)
        and a.privilege_type = 'USAGE'
    ) then
      execute pg_catalog.format('grant usage on schema public to %I', api_role);
    end if;
  end loop;

  -- supabase's defining (and surprising) default: every table, function and
  -- sequence the migration role creates in public is fully granted to anon,
  -- authenticated and service_role, and rls is what actually protects rows.
  -- kilat's migrations are written against that default — they revoke what
  -- users must not have — so the local database must start from it too, or
  -- tests would pass locally on privileges supabase would have granted.
  if not exists (
    select 1
    from pg_catalog.pg_default_acl d, pg_catalog.aclexplode(d.defaclacl) a
    where d.defaclrole = me
      and d.defaclnamespace = (select n.oid from pg_catalog.pg_namespace n where n.nspname = 'public')
      and d.defaclobjtype = 'r'
      and a.grantee = (select r.oid from pg_catalog.pg_roles r where r.rolname = 'anon')
  ) then
    alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
  end if;

  if not exists (
    select 1
    from pg_catalog.pg_default_acl d, pg_catalog.aclexplode(d.defaclacl) a
    where d.defaclrole = me
      and d.defaclnamespace = (select n.oid from pg_catalog.pg_namespace n where n.nspname = 'public')
      and d.defaclobjtype = 'f'
      and a.grantee = (select r.oid from pg_catalog.pg_roles r where r.rolname = 'anon')
  ) then
    alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
  end if;

  if not exists (
    select 1
    from pg_catalog.pg_default_acl d, pg_catalog.aclexplode(d.defaclacl) a
    where d.defaclrole = me
      and d.defaclnamespace = (select n.oid from pg_catalog.pg_namespace n where n.nspname = 'public')
      and d.defaclobjtype = 'S'
      and a.grantee = (select r.oid from pg_catalog.pg_roles r where r.rolname = 'anon')
  ) then
    alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
  end if;
end
$$;
