-- profile locale: the language a person last chose, so mail kilat sends
-- them later (receipts, notices) reads in it.
--
-- set from the page they signed up on (the signup trigger reads `locale`
-- from raw_user_meta_data, which kilat sends with the signup) and again
-- whenever they switch language while signed in. null: never chosen;
-- senders use the server's DEFAULT_LOCALE.
alter table public.profiles
  add column locale text,
  add constraint profiles_locale_known check (locale is null or locale in ('id', 'en'));

comment on column public.profiles.locale is
  'Last chosen language (id or en) for mail; null means the server default.';

-- the language switch runs as the signed-in person, like a name change.
grant update (locale) on table public.profiles to authenticated;

-- the signup trigger, now also taking the locale. a value kilat does not
-- speak is ignored rather than failing the signup.
create or replace function public.handle_new_user_profile()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, full_name, locale)
  values (
    new.id,
    pg_catalog.left(
      coalesce(
        nullif(pg_catalog.btrim(new.raw_user_meta_data ->> 'full_name'), ''),
        nullif(pg_catalog.btrim(new.raw_user_meta_data ->> 'name'), '')
      ),
      120
    ),
    case when new.raw_user_meta_data ->> 'locale' in ('id', 'en')
      then new.raw_user_meta_data ->> 'locale'
    end
  )
  on conflict (id) do nothing;
  return new;
end;
$$;

comment on function public.handle_new_user_profile() is
  'Signup trigger: creates the profile of a new auth user (full name and locale from raw_user_meta_data).';

-- existing users: the locale they signed up with, where kilat recorded one.
update public.profiles p
set locale = u.raw_user_meta_data ->> 'locale'
from auth.users u
where u.id = p.id
  and p.locale is null
  and u.raw_user_meta_data ->> 'locale' in ('id', 'en');
