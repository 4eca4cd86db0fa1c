"""Tags and tag groups as Discourse shows them."""
from forum.models import Tag, TagGroup
from forum.services.slugs import slugify

PERMISSION_FULL = 1  # Discourse's TagGroupPermission full: everyone may see and use the group's tags
EVERYONE_GROUP_ID = 0


def tag_slug(tag: Tag) -> str:
    # Discourse's rule: the name as a slug, or "<id>-tag" for a name without ASCII letters.
    return slugify(tag.name, fallback="") or f"{tag.id}-tag"


def tag_reference(tag: Tag) -> dict:
    """A tag as tag groups and GET /site.json's top_tags name it."""
    return {"id": tag.id, "name": tag.name, "slug": tag_slug(tag)}


def tag_with_count(tag: Tag, count: int) -> dict:
    """A tag in GET /tags.json, with the number of topics the caller may see that carry it."""
    return {"id": tag.id, "text": tag.name, "name": tag.name, "count": count, "pm_count": 0, "target_tag": None}


def tag_group(group: TagGroup) -> dict:
    """A tag group as GET and POST /tag_groups.json show it (Discourse's TagGroupSerializer)."""
    return {
        "id": group.id,
        "name": group.name,
        "tags": [tag_reference(tag) for tag in sorted(group.tags, key=lambda tag: tag.name)],
        "parent_tag": [],
        "one_per_topic": group.one_per_topic,
        "permissions": {str(EVERYONE_GROUP_ID): PERMISSION_FULL},
    }


def tag_group_detail(group: TagGroup) -> dict:
    """A tag group as GET and PUT /tag_groups/{id}.json show it: the spec documents this older shape, with
    tag names and permissions by group name."""
    return {
        "id": group.id,
        "name": group.name,
        "tag_names": sorted(tag.name for tag in group.tags),
        "parent_tag_name": [],
        "one_per_topic": group.one_per_topic,
        "permissions": {"everyone": PERMISSION_FULL},
    }
