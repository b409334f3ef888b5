"""Close administration ports a security group opens to the whole internet, reversibly.

The state is the group's ingress rules open to ``0.0.0.0/0`` or ``::/0``, one entry per
(protocol, port range, range), sorted. The after-state drops the entries that reach a port
of ``params.ports`` over TCP (or all protocols); applying revokes exactly those, restoring
authorises exactly those again, descriptions included. Rules from other sources are not
part of the state and are never touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from posture.remediate.registry import FixContext, fix_handler

INTERNET = {"0.0.0.0/0": ("IpRanges", "CidrIp"), "::/0": ("Ipv6Ranges", "CidrIpv6")}
DEFAULT_PORTS = (22, 3389)
TCP = ("-1", "tcp", "6")

Entry = dict[str, Any]


def _entries(permissions: Iterable[Mapping[str, Any]]) -> list[Entry]:
    out: list[Entry] = []
    for perm in permissions:
        for ranges, key in INTERNET.values():
            for item in perm.get(ranges) or []:
                if item.get(key) not in INTERNET:
                    continue
                out.append(
                    {
                        "IpProtocol": str(perm.get("IpProtocol")),
                        "FromPort": perm.get("FromPort"),
                        "ToPort": perm.get("ToPort"),
                        "Cidr": item[key],
                        "Description": item.get("Description"),
                    }
                )
    return sorted(
        out, key=lambda e: (e["Cidr"], e["IpProtocol"], str(e["FromPort"]), str(e["ToPort"]))
    )


def reaches(entry: Mapping[str, Any], ports: Iterable[int]) -> bool:
    """Does the rule let TCP reach one of ``ports``?"""
    protocol = entry["IpProtocol"]
    if protocol not in TCP:
        return False
    if protocol == "-1":
        return True
    low, high = entry.get("FromPort"), entry.get("ToPort")
    return any((low is None or low <= p) and (high is None or high >= p) for p in ports)


def _permission(entry: Mapping[str, Any]) -> dict[str, Any]:
    ranges, key = INTERNET[entry["Cidr"]]
    item: dict[str, Any] = {key: entry["Cidr"]}
    if entry.get("Description"):
        item["Description"] = entry["Description"]
    perm: dict[str, Any] = {"IpProtocol": entry["IpProtocol"], ranges: [item]}
    for port in ("FromPort", "ToPort"):
        if entry.get(port) is not None:
            perm[port] = entry[port]
    return perm


def _difference(left: list[Entry], right: list[Entry]) -> list[Entry]:
    rest = list(right)
    out = []
    for entry in left:
        if entry in rest:
            rest.remove(entry)
        else:
            out.append(entry)
    return out


@fix_handler("aws.ec2.security_group_ingress")
class SecurityGroupIngress:
    def _group(self, ctx: FixContext) -> str:
        return str(ctx.target.data.get("GroupId") or ctx.target.uid.rsplit("/", 1)[-1])

    def read(self, ctx: FixContext) -> list[Entry]:
        answer = ctx.client.call(
            "ec2",
            "describe_security_groups",
            {"GroupIds": [self._group(ctx)]},
            region=ctx.target.region,
        )
        groups = answer.get("SecurityGroups") or []
        return _entries(groups[0].get("IpPermissions") or []) if groups else []

    def desired(self, ctx: FixContext, before: list[Entry]) -> list[Entry]:
        ports = [int(p) for p in ctx.fix.params.get("ports", DEFAULT_PORTS)]
        return [e for e in before if not reaches(e, ports)]

    def apply(self, ctx: FixContext, before: list[Entry], after: list[Entry]) -> None:
        removed = _difference(before, after)
        if removed:
            ctx.client.call(
                "ec2",
                "revoke_security_group_ingress",
                {"GroupId": self._group(ctx), "IpPermissions": [_permission(e) for e in removed]},
                region=ctx.target.region,
            )

    def restore(self, ctx: FixContext, before: list[Entry], current: list[Entry]) -> None:
        missing = _difference(before, current)
        extra = _difference(current, before)
        group = self._group(ctx)
        if extra:
            ctx.client.call(
                "ec2",
                "revoke_security_group_ingress",
                {"GroupId": group, "IpPermissions": [_permission(e) for e in extra]},
                region=ctx.target.region,
            )
        if missing:
            ctx.client.call(
                "ec2",
                "authorize_security_group_ingress",
                {"GroupId": group, "IpPermissions": [_permission(e) for e in missing]},
                region=ctx.target.region,
            )
