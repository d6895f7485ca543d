-- avatars: profile picture columns and the private "avatars" bucket.
--
-- an avatar is stored at avatars/{user id}/avatar and shown through signed
-- urls that live minutes, minted on every read. the database stores where
-- the file is (a path), never how to fetch it (a url).


-- ---------------------------------------------------------------------------
-- profile columns
-- ---------------------------------------------------------------------------
-- about avatar_url (the original app had one): there is deliberately no url
-- column. a stored url is either a public link — which lives forever and
-- leaks the picture to anyone who ever saw it — or a signed one, which is
-- dead within the hour and so worse than useless in a table. the ui gets a
-- fresh short-lived signed url computed from avatar_path instead. an oauth
-- provider's picture url (google's avatar_url in raw_user_meta_data) is not
-- copied either; it stays in auth.users where it came from.
alter table public.profiles
  -- object path inside the avatars bucket, e.g. '6f1c…/avatar'.
  add column avatar_path text,
  -- when the avatar last changed. the path never changes (uploads overwrite
  -- {id}/avatar), so this is what cache-busts the ui and tells the signed-url
  -- cache its entry is stale.
  add column avatar_updated_at timestamptz,
  -- an avatar path can only point into the owner's own folder, so a
  -- profile can never be made to display (and get signed urls for) someone
  -- else's file.
  add constraint profiles_avatar_path_own_folder
    check (avatar_path is null or (avatar_path like (id::text || '/%') and char_length(avatar_path) <= 1024)),
  -- both set or both cleared: removing the avatar clears both.
  add constraint profiles_avatar_updated_at_with_path
    check ((avatar_path is null) = (avatar_updated_at is null));

-- the avatar pipeline runs on behalf of the user (a user-scoped transaction
-- after the upload), so these two join full_name among the columns a user
-- may update on their own row. the check constraint above is what keeps
-- that safe.
grant update (avatar_path, avatar_updated_at) on table public.profiles to authenticated;


-- ---------------------------------------------------------------------------
-- the bucket
-- ---------------------------------------------------------------------------
-- private (public = false): there are no public object urls at all; every
-- read goes through a signed url. storage enforces the limits itself on
-- upload: 2 mib, and the four image types the server also checks by magic
-- bytes before uploading.
--
-- "on conflict do nothing": on a project where someone already created the
-- bucket by hand, their row is left alone — but a public avatars bucket
-- would break the "urls are signed and short-lived" rule, so that case is
-- reported loudly below.
insert into storage.buckets (id, name, public, file_size_limit, allowed_mime_types)
values (
  'avatars',
  'avatars',
  false,
  2097152,
  array['image/jpeg', 'image/png', 'image/webp', 'image/gif']
)
on conflict (id) do nothing;

do $$
begin
  if exists (select 1 from storage.buckets b where b.id = 'avatars' and b.public) then
    raise warning 'the avatars bucket already exists and is PUBLIC; kilat expects it private (update storage.buckets set public = false where id = ''avatars'')';
  end if;
end
$$;


-- ---------------------------------------------------------------------------
-- storage.objects policies: your own folder, nothing else
-- ---------------------------------------------------------------------------
-- storage checks these against the caller's jwt for every api call:
-- upload needs insert; upsert (x-upsert / put) needs insert + select +
-- update; creating a signed url needs select; delete needs delete. each is
-- limited to the avatars bucket and to paths whose first folder is the
-- caller's own id — foldername('abc/avatar') is {abc}. owner_id is not used:
-- it is text, and a path rule is what the product promises ("{userId}/…").
-- policy names start with the bucket's name because storage.objects is
-- shared by every bucket of the project and policy names must be unique
-- per table.
create policy avatars_insert_own_folder
  on storage.objects
  for insert
  to authenticated
  with check (
    bucket_id = 'avatars'
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );

create policy avatars_select_own_folder
  on storage.objects
  for select
  to authenticated
  using (
    bucket_id = 'avatars'
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );

-- with check too: an update must not move an object out of your folder.
create policy avatars_update_own_folder
  on storage.objects
  for update
  to authenticated
  using (
    bucket_id = 'avatars'
    and (storage.foldername(name))[1] = (select auth.uid())::text
  )
  with check (
    bucket_id = 'avatars'
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );

create policy avatars_delete_own_folder
  on storage.objects
  for delete
  to authenticated
  using (
    bucket_id = 'avatars'
    and (storage.foldername(name))[1] = (select auth.uid())::text
  );
