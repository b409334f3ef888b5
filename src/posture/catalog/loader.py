"""Read the content folders into one validated ``Catalog``.

Built-in folders come first; user folders (``--policies-dir`` ...) extend them and may not
redefine an id silently: a duplicate is an error naming both files.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from posture.catalog.fix import Fix
from posture.catalog.framework import Framework
from posture.catalog.policy import Policy
from posture.catalog.spec import ResourceSpec
from posture.catalog.validation import validate
from posture.content import builtin_dir
from posture.engine.conditions import document_paths
from posture.errors import ContentError
from posture.models import UNKNOWN_KEY
from posture.yamlload import LocatedDocument, load_yaml

RESOURCE_TYPE = re.compile(r"^[a-z0-9]+\.[a-z0-9_]+\.[a-z0-9_]+$")


@dataclass
class Catalog:
    specs: dict[str, ResourceSpec] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    frameworks: dict[str, Framework] = field(default_factory=dict)
    fixes: dict[str, Fix] = field(default_factory=dict)

    def fix_for(self, policy_id: str) -> Fix | None:
        """The fix a policy names with ``remediation:``, if it names a loaded one."""
        policy = self.policies.get(policy_id)
        if policy is None or policy.remediation is None:
            return None
        return self.fixes.get(policy.remediation)

    def policies_for(self, resource_type: str) -> list[Policy]:
        return [p for p in self.policies.values() if p.resource == resource_type]

    def select(
        self,
        provider: str | None = None,
        ids: Iterable[str] | None = None,
        services: Iterable[str] | None = None,
    ) -> list[Policy]:
        """Policies filtered by provider, id prefixes and services, sorted by id."""
        id_list = list(ids or [])
        service_set = set(services or [])
        out = []
        for policy in self.policies.values():
            if provider and policy.provider != provider:
                continue
            if id_list and not any(
                policy.id == i or policy.id.startswith(i + ".") for i in id_list
            ):
                continue
            if service_set and policy.service not in service_set:
                continue
            out.append(policy)
        return sorted(out, key=lambda p: p.id)

    def types_for_provider(self, provider: str) -> list[str]:
        return sorted(t for t, s in self.specs.items() if s.provider == provider)


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.exists():
        raise ContentError("folder does not exist", path=str(folder))
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_specs(folders: Sequence[Path], catalog: Catalog) -> None:
    origin: dict[str, str] = {}
    for folder in folders:
        for path in _yaml_files(folder):
            doc = load_yaml(path)
            if doc.data is None:
                continue
            if not isinstance(doc.data, dict):
                raise ContentError(
                    "a scanner file maps resource types to specs", path=doc.path, line=1
                )
            for type_name, body in doc.data.items():
                if not isinstance(type_name, str) or not RESOURCE_TYPE.match(type_name):
                    raise ContentError(
                        "resource type must look like 'provider.service.kind', e.g. 'aws.s3.bucket'",
                        path=doc.path,
                        line=doc.line_of((type_name,)),
                        field=str(type_name),
                    )
                if type_name in origin:
                    raise ContentError(
                        f"resource type already defined in {origin[type_name]}",
                        path=doc.path,
                        line=doc.line_of((type_name,)),
                        field=type_name,
                    )
                data = dict(body) if isinstance(body, dict) else body
                if isinstance(data, dict):
                    data["type"] = type_name
                spec = validate(ResourceSpec, doc, data, base=(type_name,))
                origin[type_name] = doc.path
                catalog.specs[type_name] = spec
    for spec in catalog.specs.values():
        if spec.aggregate and spec.aggregate.of not in catalog.specs:
            raise ContentError(
                f"aggregate of unknown resource type '{spec.aggregate.of}'"
                + _suggest(spec.aggregate.of, catalog.specs),
                path=origin[spec.type],
                field=f"{spec.type}.aggregate.of",
            )
        for n, source in enumerate(spec.dns.sources if spec.dns else []):
            if source.of not in catalog.specs:
                raise ContentError(
                    f"dns source of unknown resource type '{source.of}'"
                    + _suggest(source.of, catalog.specs),
                    path=origin[spec.type],
                    field=f"{spec.type}.dns.sources[{n}].of",
                )


def load_frameworks(folders: Sequence[Path], catalog: Catalog) -> None:
    docs: dict[str, LocatedDocument] = {}
    for folder in folders:
        for path in _yaml_files(folder):
            doc = load_yaml(path)
            fw = validate(Framework, doc, doc.data)
            if fw.id in catalog.frameworks:
                raise ContentError(
                    f"framework '{fw.id}' is defined twice", path=doc.path, field="id"
                )
            catalog.frameworks[fw.id] = fw
            docs[fw.id] = doc
    for fw in catalog.frameworks.values():
        for n, control in enumerate(fw.controls):
            for other, ids in control.maps.items():
                doc = docs[fw.id]
                line = doc.line_of(("controls", n, "maps", other))
                field = f"controls[{n}].maps.{other}"
                target = catalog.frameworks.get(other)
                if target is None or target.id == fw.id:
                    raise ContentError(
                        f"control '{control.id}' maps to unknown framework '{other}'"
                        + _suggest(other, catalog.frameworks),
                        path=doc.path,
                        line=line,
                        field=field,
                    )
                unknown = [c for c in ids if c not in target.control_ids()]
                if unknown:
                    raise ContentError(
                        f"control '{control.id}' maps to '{unknown[0]}', which is not a "
                        f"control of '{other}'",
                        path=doc.path,
                        line=line,
                        field=field,
                    )


def apply_crosswalks(catalog: Catalog) -> None:
    """Map each policy to the controls whose ``maps`` name a control the policy maps to.

    Repeated until nothing changes, so a framework may map to one that itself maps (ISO
    to NIST to CIS); the policies' own mappings are never removed.
    """
    answers: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for framework in catalog.frameworks.values():
        for control in framework.controls:
            for other, ids in control.maps.items():
                for cid in ids:
                    answers.setdefault((other, cid), set()).add((framework.id, control.id))
    if not answers:
        return
    for policy_id, policy in list(catalog.policies.items()):
        mapped = {fw: set(ids) for fw, ids in policy.frameworks.items()}
        pending = [(fw, c) for fw, ids in mapped.items() for c in ids]
        while pending:
            for fw, cid in answers.get(pending.pop(), ()):
                if cid not in mapped.setdefault(fw, set()):
                    mapped[fw].add(cid)
                    pending.append((fw, cid))
        if any(len(ids) != len(policy.frameworks.get(fw, ())) for fw, ids in mapped.items()):
            frameworks = {
                fw: _in_order(catalog.frameworks[fw], ids)
                for fw, ids in sorted(mapped.items())
                if ids
            }
            catalog.policies[policy_id] = policy.model_copy(update={"frameworks": frameworks})


def _in_order(framework: Framework, ids: set[str]) -> list[str]:
    """Control ids in the order the framework lists them."""
    return [c.id for c in framework.controls if c.id in ids]


def load_policies(
    folders: Sequence[Path], catalog: Catalog, problems: list[ContentError] | None = None
) -> None:
    """Load every policy file; with ``problems`` given, collect broken files and go on."""
    for folder in folders:
        for path in _yaml_files(folder):
            if "frameworks" in path.relative_to(folder).parts[:1]:
                continue
            try:
                _load_policy(path, catalog)
            except ContentError as exc:
                if problems is None:
                    raise
                problems.extend(exc.problems)


def _load_policy(path: Path, catalog: Catalog) -> None:
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise ContentError("a policy file holds one mapping", path=doc.path, line=1)
    policy = validate(Policy, doc, doc.data).with_source(doc.path)
    _check_policy(policy, path, doc, catalog)
    catalog.policies[policy.id] = policy


def _check_policy(policy: Policy, path: Path, doc: LocatedDocument, catalog: Catalog) -> None:
    if policy.id.rsplit(".", 1)[-1] != path.stem:
        raise ContentError(
            f"policy id '{policy.id}' must end with the file name '{path.stem}'",
            path=doc.path,
            line=doc.line_of(("id",)),
            field="id",
        )
    if policy.id in catalog.policies:
        raise ContentError(
            f"policy id '{policy.id}' is already defined in {catalog.policies[policy.id].source}",
            path=doc.path,
            line=doc.line_of(("id",)),
            field="id",
        )
    if catalog.specs and policy.resource not in catalog.specs:
        raise ContentError(
            f"unknown resource type '{policy.resource}'"
            + _suggest(policy.resource, catalog.specs)
            + "; valid types: "
            + ", ".join(sorted(catalog.specs)),
            path=doc.path,
            line=doc.line_of(("resource",)),
            field="resource",
        )
    spec = catalog.specs.get(policy.resource)
    if spec is not None:
        _check_template_fields(policy, spec, doc)
        _check_unknown_markers(policy, spec, doc)
    for fw_id, controls in policy.frameworks.items():
        fw = catalog.frameworks.get(fw_id)
        if fw is None:
            raise ContentError(
                f"unknown framework '{fw_id}'; known: {', '.join(sorted(catalog.frameworks)) or 'none'}",
                path=doc.path,
                line=doc.line_of(("frameworks", fw_id)),
                field=f"frameworks.{fw_id}",
            )
        unknown = [c for c in controls if c not in fw.control_ids()]
        if unknown:
            raise ContentError(
                f"control '{unknown[0]}' is not in framework '{fw_id}'",
                path=doc.path,
                line=doc.line_of(("frameworks", fw_id)),
                field=f"frameworks.{fw_id}",
            )


def _check_unknown_markers(policy: Policy, spec: ResourceSpec, doc: LocatedDocument) -> None:
    """A condition reading ``_unknown.<detail>`` names a detail that can record one."""
    markers = spec.unknown_details
    for key in ("unknown_when", "applies_when", "condition"):
        clause = getattr(policy, key)
        for parts in document_paths(clause):
            if not parts or parts[0] != UNKNOWN_KEY:
                continue
            detail = parts[1] if len(parts) > 1 else None
            if detail in markers:
                continue
            where = (
                f"details with 'unknown_on': {', '.join(markers)}"
                if markers
                else "it has no detail with 'unknown_on'"
            )
            raise ContentError(
                f"'{'.'.join(str(p) for p in parts)}' reads no unknown marker of "
                f"'{policy.resource}' ({where})"
                + (_suggest(str(detail), markers) if detail is not None else ""),
                path=doc.path,
                line=doc.line_of((key,)),
                field=key,
            )


def _check_template_fields(policy: Policy, spec: ResourceSpec, doc: LocatedDocument) -> None:
    """Every field a statement or command names exists in the resource's documents."""
    known = set(spec.detail) | set(spec.fields)
    if spec.unknown_details:
        known.add(UNKNOWN_KEY)
    for case in policy.tests:
        known.update(k for k in case.resource if isinstance(k, str))
    unknown = sorted(policy.template_fields - known)
    if unknown:
        raise ContentError(
            f"the statement or a command reads '{unknown[0]}', which is neither a field of "
            f"'{policy.resource}' (its spec's details and fields) nor in any test case"
            + _suggest(unknown[0], known),
            path=doc.path,
            line=doc.line_of(("statement",)),
            field="statement",
        )


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def load_fixes(
    folders: Sequence[Path], catalog: Catalog, problems: list[ContentError] | None = None
) -> None:
    """Load every fix file, then check that fixes and policies name each other correctly.

    Without fix folders (a catalog of policies only, e.g. in tests) nothing is checked.
    """
    if not folders:
        return
    docs: dict[str, LocatedDocument] = {}
    for folder in folders:
        for path in _yaml_files(folder):
            try:
                doc = load_yaml(path)
                if not isinstance(doc.data, dict):
                    raise ContentError("a fix file holds one mapping", path=doc.path, line=1)
                fix = validate(Fix, doc, doc.data).with_source(doc.path)
                _check_fix(fix, path, doc, catalog)
                catalog.fixes[fix.id] = fix
                docs[fix.id] = doc
            except ContentError as exc:
                if problems is None:
                    raise
                problems.extend(exc.problems)
    _check_remediation_ids(catalog, docs, problems)


def _check_fix(fix: Fix, path: Path, doc: LocatedDocument, catalog: Catalog) -> None:
    def fail(message: str, loc: tuple[str | int, ...]) -> ContentError:
        return ContentError(
            message, path=doc.path, line=doc.line_of(loc), field=".".join(map(str, loc))
        )

    if fix.id != path.stem:
        raise fail(f"fix id '{fix.id}' must be the file name ('{path.stem}.yaml')", ("id",))
    if path.parent.name != fix.provider:
        raise fail(
            f"a fix of provider '{fix.provider}' belongs in the folder '{fix.provider}/'",
            ("provider",),
        )
    if fix.id in catalog.fixes:
        raise fail(
            f"fix id '{fix.id}' is already defined in {catalog.fixes[fix.id].source}", ("id",)
        )
    if catalog.specs and fix.resource_type not in catalog.specs:
        raise fail(
            f"unknown resource type '{fix.resource_type}'"
            + _suggest(fix.resource_type, catalog.specs),
            ("resource_type",),
        )
    for n, policy_id in enumerate(fix.resolves):
        policy = catalog.policies.get(policy_id)
        if policy is None:
            raise fail(
                f"resolves unknown policy '{policy_id}'" + _suggest(policy_id, catalog.policies),
                ("resolves", n),
            )
        if policy.resource != fix.resource_type:
            raise fail(
                f"policy '{policy_id}' checks '{policy.resource}', but the fix changes "
                f"'{fix.resource_type}'",
                ("resolves", n),
            )
        if policy.remediation != fix.id:
            raise fail(
                f"policy '{policy_id}' does not name this fix: add 'remediation: {fix.id}' "
                f"to {policy.source}",
                ("resolves", n),
            )
    if fix.handler is not None:
        from posture.remediate.registry import handler_names

        if fix.handler not in handler_names():
            raise fail(
                f"no fix handler named '{fix.handler}'" + _suggest(fix.handler, handler_names()),
                ("handler",),
            )


def _check_remediation_ids(
    catalog: Catalog, docs: dict[str, LocatedDocument], problems: list[ContentError] | None
) -> None:
    """A policy's ``remediation:`` names a loaded fix that lists the policy in ``resolves``."""
    if not catalog.fixes and not any(p.remediation for p in catalog.policies.values()):
        return
    for policy in sorted(catalog.policies.values(), key=lambda p: p.id):
        if policy.remediation is None:
            continue
        fix = catalog.fixes.get(policy.remediation)
        if fix is not None and policy.id in fix.resolves:
            continue
        message = (
            f"unknown fix '{policy.remediation}'" + _suggest(policy.remediation, catalog.fixes)
            if fix is None
            else f"fix '{fix.id}' ({fix.source}) does not list this policy in 'resolves'"
        )
        policy_doc = load_yaml(Path(policy.source))
        exc = ContentError(
            message,
            path=policy.source,
            line=policy_doc.line_of(("remediation",)),
            field="remediation",
        )
        if problems is None:
            raise exc
        problems.append(exc)


def load_catalog(
    scanner_dirs: Sequence[Path] = (),
    policy_dirs: Sequence[Path] = (),
    *,
    builtin: bool = True,
    problems: list[ContentError] | None = None,
    remediation_dirs: Sequence[Path] = (),
) -> Catalog:
    """Load built-in content plus the given user folders.

    With ``problems`` given, a broken policy file is recorded there (every problem in it)
    and loading goes on, so a validator reports all broken files in one run.

    A process that loads the same folders again (a web app's contexts, the command line
    run many times in one interpreter) gets a private copy of the catalog it loaded
    before, as long as no file in them changed (names and contents are compared), which
    is some fifty times cheaper than reading and validating every file again.
    """
    scanners = ([builtin_dir("scanners")] if builtin else []) + list(scanner_dirs)
    policies = ([builtin_dir("policies")] if builtin else []) + list(policy_dirs)
    fixes = ([builtin_dir("remediation")] if builtin else []) + list(remediation_dirs)
    fixes = [f for f in fixes if f.is_dir()]
    if problems is not None:
        return _load(scanners, policies, fixes, problems)
    key = _content_key((scanners, policies, fixes))
    with _LOADED_LOCK:
        loaded = _LOADED.get(key)
        if loaded is not None:
            _LOADED.move_to_end(key)
    if loaded is None:
        loaded = _load(scanners, policies, fixes, None)
        with _LOADED_LOCK:
            _LOADED[key] = loaded
            while len(_LOADED) > _LOADED_KEEP:
                _LOADED.popitem(last=False)
    return copy.deepcopy(loaded)  # callers may change theirs; the kept one stays as read


_LOADED: OrderedDict[str, Catalog] = OrderedDict()
_LOADED_LOCK = threading.Lock()
_LOADED_KEEP = 4


def _content_key(groups: Iterable[Sequence[Path]]) -> str:
    """A digest of every file's path and bytes under the folders, group by group."""
    digest = hashlib.blake2b(digest_size=20)
    for group in groups:
        digest.update(b"\x00group")
        for folder in group:
            root = Path(folder).resolve()
            digest.update(b"\x00folder" + str(root).encode())
            files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
            for path in files:
                data = path.read_bytes()
                digest.update(b"\x00file" + str(path).encode() + b"\x00" + str(len(data)).encode())
                digest.update(data)
    return digest.hexdigest()


def _load(
    scanners: Sequence[Path],
    policies: Sequence[Path],
    fixes: Sequence[Path],
    problems: list[ContentError] | None,
) -> Catalog:
    catalog = Catalog()
    load_specs(scanners, catalog)
    framework_dirs = [p / "frameworks" for p in policies if (p / "frameworks").is_dir()]
    load_frameworks(framework_dirs, catalog)
    load_policies(policies, catalog, problems)
    load_fixes(fixes, catalog, problems)
    apply_crosswalks(catalog)
    return catalog
