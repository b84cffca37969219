"""Held-out v2 specs (tests/heldout/) against hand-written torch.nn references.

The specs and the reference models here were written from the public contract alone, not
from netcalc's exporter: each reference is an ordinary torch.nn model that maps every spec
layer name to its output tensor and to the module (or parameter) that owns its weights.
Per layer: shape (no batch), parameters as the module's own (shared ones counted once, at
first use), buffers, frozen parameters; in total: parameters, trainable parameters, buffers
and MACs (FlopCounterMode's FLOPs / 2, math attention, no mkldnn, no MHA fast path).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from netcalc.core.api import analyze

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

pytestmark = [pytest.mark.torch,
              pytest.mark.filterwarnings("ignore:TF32 acceleration on top of oneDNN:UserWarning")]

HELDOUT = Path(__file__).resolve().parent / "heldout"
BATCH = 2


def freeze(*owners: object) -> None:
    for owner in owners:
        params = owner.parameters() if isinstance(owner, nn.Module) else [owner]
        for p in params:
            p.requires_grad_(False)


# --------------------------------------------------------------------------------------------
# Reference models. Each has `inputs` (name -> (shape, dtype, high for ids)), `owners`
# (spec layer name -> nn.Module, nn.Parameter or None) and forward(**inputs) -> {name: tensor}.


class Encoder(nn.Module):
    inputs = {"ids": ((16,), torch.int64, 50), "mask": ((16,), torch.bool, None)}

    def __init__(self) -> None:
        super().__init__()
        self.tok = nn.Embedding(50, 32)
        self.cls = nn.Parameter(torch.randn(1, 1, 32))
        self.pos = nn.Parameter(torch.randn(1, 17, 32))
        self.blocks = nn.ModuleList()
        self.owners: dict[str, object] = {"tok": self.tok, "cls": self.cls, "pos": self.pos}
        for i in range(2):
            blk = nn.ModuleDict({
                "ln1": nn.LayerNorm(32, eps=1e-6), "attn": nn.MultiheadAttention(32, 4, batch_first=True),
                "ln2": nn.LayerNorm(32), "fc1": nn.Linear(32, 64), "act": nn.GELU(), "drop": nn.Dropout(0.1),
                "fc2": nn.Linear(64, 32),
            })
            self.blocks.append(blk)
            for key, mod in blk.items():
                self.owners[f"layer.{i}.{key}"] = mod
        self.norm = nn.LayerNorm(32)
        self.head = nn.Linear(32, 10)
        self.owners.update(norm=self.norm, head=self.head)

    def forward(self, ids, mask):  # type: ignore[no-untyped-def]
        o = {"tok": self.tok(ids), "cls": self.cls, "pos": self.pos}
        o["cat"] = torch.cat([self.cls.expand(ids.shape[0], -1, -1), o["tok"]], dim=1)
        x = o["embed"] = o["cat"] + self.pos
        for i, b in enumerate(self.blocks):
            p = f"layer.{i}."
            h = o[p + "ln1"] = b["ln1"](x)
            h = o[p + "attn"] = b["attn"](h, h, h, need_weights=False)[0]
            r = o[p + "res1"] = x + h
            h = o[p + "ln2"] = b["ln2"](r)
            h = o[p + "fc1"] = b["fc1"](h)
            h = o[p + "act"] = b["act"](h)
            h = o[p + "drop"] = b["drop"](h)
            h = o[p + "fc2"] = b["fc2"](h)
            x = o[p + "res2"] = r + h
        o["norm"] = self.norm(x)
        o["cls_out"] = o["norm"].select(1, 0)
        o["head"] = self.head(o["cls_out"])
        o["mask_out"] = mask
        return o


class Decoder(nn.Module):
    inputs = {"ids": ((12,), torch.int64, 40)}  # the single, unnamed input

    def __init__(self) -> None:
        super().__init__()
        d = 32
        self.wte = nn.Embedding(40, d, padding_idx=0)
        self.owners: dict[str, object] = {"wte": self.wte}
        self.attn = nn.ModuleList()
        self.mlp = nn.ModuleList()
        self.kv = (2, 1)
        for i, kv in enumerate(self.kv):
            a = nn.ModuleDict({
                "norm": nn.RMSNorm(d, eps=1e-5), "q": nn.Linear(d, d, bias=False),
                "k": nn.Linear(d, d * kv // 4, bias=False), "v": nn.Linear(d, d * kv // 4, bias=False),
                "o": nn.Linear(d, d, bias=False),
            })
            m = nn.ModuleDict({
                "norm": nn.RMSNorm(d), "up": nn.Linear(d, 3 * d), "act": nn.GELU(approximate="tanh"),
                "down": nn.Linear(3 * d, d),
            })
            self.attn.append(a)
            self.mlp.append(m)
            self.owners.update({f"blk-{i}.{k}": v for k, v in a.items()})
            self.owners.update({f"mlp-{i}.{k}": v for k, v in m.items()})
        self.norm_f = nn.RMSNorm(d, elementwise_affine=False)
        self.lm_head = nn.Linear(d, 40, bias=False)
        self.lm_head.weight = self.wte.weight
        self.logp = nn.LogSoftmax(dim=-1)
        self.owners.update(norm_f=self.norm_f, lm_head=self.lm_head, logp=self.logp)

    def forward(self, ids):  # type: ignore[no-untyped-def]
        o = {"wte": self.wte(ids)}
        x = o["wte"]
        B, L = ids.shape
        for i, (a, m) in enumerate(zip(self.attn, self.mlp, strict=True)):
            p, kv = f"blk-{i}.", self.kv[i]
            n = o[p + "norm"] = a["norm"](x)
            q = o[p + "q"] = a["q"](n)
            k = o[p + "k"] = a["k"](n)
            v = o[p + "v"] = a["v"](n)
            qh = q.view(B, L, 4, 8).transpose(1, 2)
            kh = k.view(B, L, kv, 8).transpose(1, 2)
            vh = v.view(B, L, kv, 8).transpose(1, 2)
            att = F.scaled_dot_product_attention(qh, kh, vh, is_causal=True, enable_gqa=kv < 4)
            h = o[p + "sdpa"] = att.transpose(1, 2).reshape(B, L, 32)
            h = o[p + "o"] = a["o"](h)
            x = o[p + "res"] = x + h
            p = f"mlp-{i}."
            h = o[p + "norm"] = m["norm"](x)
            h = o[p + "up"] = m["up"](h)
            h = o[p + "act"] = m["act"](h)
            h = o[p + "down"] = m["down"](h)
            x = o[p + "res"] = x + h
        o["norm_f"] = self.norm_f(x)
        o["lm_head"] = self.lm_head(o["norm_f"])
        o["logp"] = self.logp(o["lm_head"])
        return o


class Recurrent(nn.Module):
    inputs = {"x": ((10, 16), torch.float32, None)}

    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(16, 24, num_layers=2, bidirectional=True, proj_size=8, batch_first=True)
        self.gru = nn.GRU(16, 12, num_layers=2, batch_first=True)
        self.rnn = nn.RNN(12, 6, nonlinearity="relu", bidirectional=True, bias=False, batch_first=True)
        self.lstm1 = nn.LSTM(12, 5, batch_first=True)
        self.head = nn.Linear(5, 3)
        self.logp = nn.LogSoftmax(dim=-1)
        self.owners = {"lstm": self.lstm, "gru": self.gru, "rnn": self.rnn, "lstm1": self.lstm1, "head": self.head}

    def forward(self, x):  # type: ignore[no-untyped-def]
        o = {"lstm": self.lstm(x)[0]}
        o["gru"] = self.gru(o["lstm"])[0]
        o["rnn"] = self.rnn(o["gru"])[0]
        o["lstm1"] = self.lstm1(o["rnn"])[0]
        o["last"] = o["lstm1"][:, -1]
        o["head"] = self.head(o["last"])
        o["logp"] = self.logp(o["head"])
        return o


class ShuffleNet(nn.Module):
    inputs = {"x": ((16, 8, 8), torch.float32, None)}

    def __init__(self) -> None:
        super().__init__()
        self.owners: dict[str, object] = {}
        self.stage = nn.ModuleList()
        for i in range(2):
            u = nn.ModuleDict({
                "pw1": nn.Conv2d(8, 8, 1, bias=False), "bn1": nn.BatchNorm2d(8, eps=1e-3, momentum=0.05),
                "relu1": nn.ReLU(), "dw": nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False),
                "bn2": nn.BatchNorm2d(8), "pw2": nn.Conv2d(8, 8, 1, bias=False),
                "bn3": nn.BatchNorm2d(8, track_running_stats=False), "relu2": nn.ReLU(),
                "shuffle": nn.ChannelShuffle(2),
            })
            self.stage.append(u)
            self.owners.update({f"stage.{i}.{k}": v for k, v in u.items()})
        self.aux = nn.Conv2d(8, 4, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 7)
        self.owners.update(aux=self.aux, fc=self.fc)

    def forward(self, x):  # type: ignore[no-untyped-def]
        o = {}
        for i, u in enumerate(self.stage):
            p = f"stage.{i}."
            a = o[p + "a"] = x[:, :8]
            h = o[p + "b"] = x[:, 8:]
            for key in ("pw1", "bn1", "relu1", "dw", "bn2", "pw2", "bn3", "relu2"):
                h = o[p + key] = u[key](h)
            h = o[p + "cat"] = torch.cat([a, h], dim=1)
            x = o[p + "shuffle"] = u["shuffle"](h)
        o["aux"] = self.aux(o["stage.0.pw1"])
        o["pool"] = self.pool(x)
        o["flat"] = o["pool"].flatten(1)
        o["fc"] = self.fc(o["flat"])
        return o


class ConvNeXt(nn.Module):
    inputs = {"x": ((8, 14, 14), torch.float32, None)}

    def __init__(self) -> None:
        super().__init__()
        self.owners: dict[str, object] = {}
        self.stages = nn.ModuleList()
        self.gammas = nn.ParameterList()
        for i in range(2):
            s = nn.ModuleDict({
                "dw": nn.Conv2d(8, 8, 7, padding=3, groups=8), "norm": nn.LayerNorm(8, eps=1e-6),
                "pw1": nn.Linear(8, 32), "act": nn.GELU(), "pw2": nn.Linear(32, 8),
            })
            gamma = nn.Parameter(torch.randn(1, 1, 1, 8))
            self.stages.append(s)
            self.gammas.append(gamma)
            self.owners.update({f"stage-{i}.{k}": v for k, v in s.items()})
            self.owners[f"stage-{i}.gamma"] = gamma
        freeze(self.stages[1], self.gammas[1])  # trainable=false on the block use
        self.gn = nn.GroupNorm(2, 8, eps=1e-5)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.norm = nn.LayerNorm(8)
        self.head = nn.Linear(8, 5)
        self.owners.update(gn=self.gn, norm=self.norm, head=self.head)

    def forward(self, x):  # type: ignore[no-untyped-def]
        o = {}
        for i, s in enumerate(self.stages):
            p = f"stage-{i}."
            h = o[p + "dw"] = s["dw"](x)
            h = o[p + "to_last"] = h.permute(0, 2, 3, 1)
            for key in ("norm", "pw1", "act", "pw2"):
                h = o[p + key] = s[key](h)
            o[p + "gamma"] = self.gammas[i]
            h = o[p + "scale"] = h * self.gammas[i]
            h = o[p + "to_first"] = h.permute(0, 3, 1, 2)
            x = o[p + "res"] = x + h
        o["gn"] = self.gn(x)
        o["pool"] = self.pool(o["gn"])
        o["flat"] = o["pool"].flatten(1)
        o["norm"] = self.norm(o["flat"])
        o["head"] = self.head(o["norm"])
        return o


class MatMul(nn.Module):
    inputs = {"a": ((4, 8), torch.float32, None), "b": ((8, 5), torch.float32, None)}

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(1, 4, 6))
        self.owners = {"w": self.w}

    def forward(self, a, b):  # type: ignore[no-untyped-def]
        o = {"mm": torch.matmul(a, b), "bt": b.transpose(1, 2)}
        o["mm2"] = torch.matmul(o["mm"], o["bt"])
        o["flat4"] = o["mm2"].reshape(a.shape[0], -1, 4)
        o["w"] = self.w
        o["mm3"] = torch.matmul(o["flat4"], self.w)
        o["prob"] = torch.softmax(o["mm3"], dim=-1)
        return o


class Shared(nn.Module):
    inputs = {"x": ((4, 10), torch.float32, None)}

    def __init__(self) -> None:
        super().__init__()
        self.owners: dict[str, object] = {}
        self.body = nn.ModuleList()
        for i in range(2):
            u = nn.ModuleDict({"c": nn.Conv1d(4, 4, 3, padding=1), "bn": nn.BatchNorm1d(4, momentum=0.2)})
            self.body.append(u)
            self.owners.update({f"body.{i}.c": u["c"], f"body.{i}.c_again": u["c"], f"body.{i}.bn": u["bn"]})
        self.proj = nn.Linear(40, 16)
        self.fc = nn.Linear(16, 16)
        self.act = nn.GELU(approximate="tanh")
        self.head = nn.Linear(16, 3)
        freeze(self.head)
        self.owners.update(proj=self.proj, fc=self.fc, fc_again=self.fc, head=self.head)

    def forward(self, x):  # type: ignore[no-untyped-def]
        o = {}
        for i, u in enumerate(self.body):
            p = f"body.{i}."
            h = o[p + "c"] = u["c"](x)
            h = o[p + "r"] = torch.relu(h)
            h = o[p + "c_again"] = u["c"](h)
            x = o[p + "bn"] = u["bn"](h)
        o["flat"] = x.flatten(1)
        o["proj"] = self.proj(o["flat"])
        o["fc"] = self.fc(o["proj"])
        o["act"] = self.act(o["fc"])
        o["fc_again"] = self.fc(o["act"])
        o["head"] = self.head(o["fc_again"])
        return o


class Cross(nn.Module):
    inputs = {"q": ((6,), torch.int64, 20), "kv": ((9,), torch.int64, 30)}

    def __init__(self) -> None:
        super().__init__()
        self.qe = nn.Embedding(20, 16)
        self.ke = nn.Embedding(30, 12)
        self.xattn = nn.MultiheadAttention(16, 4, bias=False, kdim=12, vdim=12, batch_first=True)
        self.kp = nn.Linear(12, 16)
        self.vp = nn.Linear(12, 16)
        self.norm = nn.RMSNorm((6, 16), eps=1e-6)
        self.owners = {"qe": self.qe, "ke": self.ke, "xattn": self.xattn, "kp": self.kp, "vp": self.vp,
                       "norm": self.norm}

    def forward(self, q, kv):  # type: ignore[no-untyped-def]
        o = {"qe": self.qe(q), "ke": self.ke(kv)}
        o["xattn"] = self.xattn(o["qe"], o["ke"], o["ke"], need_weights=False)[0]
        o["kp"] = self.kp(o["ke"])
        o["vp"] = self.vp(o["ke"])
        B = q.shape[0]
        heads = (t.view(B, t.shape[1], 2, 8).transpose(1, 2) for t in (o["xattn"], o["kp"], o["vp"]))
        o["xsdpa"] = F.scaled_dot_product_attention(*heads).transpose(1, 2).reshape(B, 6, 16)
        o["norm"] = self.norm(o["xsdpa"])
        return o


class Tokens(nn.Module):
    inputs = {"ids": ((4, 6), torch.int64, 10)}

    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.conv = nn.Conv1d(8, 4, 3)
        self.bn = nn.BatchNorm1d(4, eps=1e-4, momentum=0.3)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.emb2 = nn.Embedding(10, 4)
        self.head = nn.Linear(8, 2)
        self.owners = {"emb": self.emb, "conv": self.conv, "bn": self.bn, "emb2": self.emb2, "head": self.head}

    def forward(self, ids):  # type: ignore[no-untyped-def]
        o = {"flat_ids": ids.reshape(ids.shape[0], -1)}
        o["every3"] = o["flat_ids"][:, 2:-2:3]
        o["emb"] = self.emb(o["every3"])
        o["chan"] = o["emb"].transpose(1, 2)
        o["conv"] = self.conv(o["chan"])
        o["bn"] = self.bn(o["conv"])
        o["pool"] = self.pool(o["bn"])
        o["flat"] = o["pool"].flatten(1)
        o["last_row"] = ids.select(1, -1)
        o["emb2"] = self.emb2(o["last_row"])
        o["swap"] = o["emb2"].permute(0, 2, 1)
        o["pick"] = o["swap"].select(-1, 2)
        o["joined"] = torch.cat([o["flat"], o["pick"]], dim=-1)
        o["head"] = self.head(o["joined"])
        return o


class Acts(nn.Module):
    inputs = {"x": ((8, 12), torch.float32, None)}

    def __init__(self) -> None:
        super().__init__()
        self.owners: dict[str, object] = {}
        self.ffn = nn.ModuleList()
        for i, act in enumerate((nn.SiLU(), nn.GELU(), nn.ReLU())):
            f = nn.ModuleDict({"up": nn.Linear(12, 24), "a": act, "down": nn.Linear(24, 12)})
            self.ffn.append(f)
            self.owners.update({f"f-{i}.{k}": v for k, v in f.items()})
        self.mp = nn.MaxPool1d(2)
        self.ap = nn.AvgPool1d(2)

    def forward(self, x):  # type: ignore[no-untyped-def]
        o = {}
        for i, f in enumerate(self.ffn):
            for key in ("up", "a", "down"):
                x = o[f"f-{i}.{key}"] = f[key](x)
        o["mp.p"] = self.mp(x)
        o["ap.p"] = self.ap(o["mp.p"])
        return o


class KvDims(nn.Module):
    inputs = {"q": ((5,), torch.int64, 10), "kv": ((7,), torch.int64, 10)}

    def __init__(self) -> None:
        super().__init__()
        self.qe = nn.Embedding(10, 16)
        self.k = nn.Embedding(10, 4)
        self.v = nn.Embedding(10, 6)
        self.x = nn.MultiheadAttention(16, 2, kdim=4, vdim=6, batch_first=True)
        self.kk = nn.Linear(4, 16)
        self.vv = nn.Linear(4, 16)
        self.owners = {"qe": self.qe, "k": self.k, "v": self.v, "x": self.x, "kk": self.kk, "vv": self.vv}

    def forward(self, q, kv):  # type: ignore[no-untyped-def]
        o = {"qe": self.qe(q), "k": self.k(kv), "v": self.v(kv)}
        o["x"] = self.x(o["qe"], o["k"], o["v"])[0]  # need_weights=True: the bmm path
        o["kk"] = self.kk(o["k"])
        o["vv"] = self.vv(o["k"])
        B = q.shape[0]
        heads = (t.view(B, t.shape[1], 4, 4).transpose(1, 2) for t in (o["x"], o["kk"], o["vv"]))
        o["s"] = F.scaled_dot_product_attention(*heads, is_causal=True).transpose(1, 2).reshape(B, 5, 16)
        return o


class MultiDim(nn.Module):
    # h is float16 in the spec; the dtype changes no count, so the reference runs it in float32
    inputs = {"ids": ((3, 4, 5), torch.int64, 10), "h": ((6, 8), torch.float32, None)}

    def __init__(self) -> None:
        super().__init__()
        self.e = nn.Embedding(10, 2)
        self.l = nn.Linear(8, 3)
        self.g = nn.GRU(3, 4, num_layers=3, bidirectional=True, bias=False, batch_first=True)
        self.owners = {"e": self.e, "l": self.l, "g": self.g}

    def forward(self, ids, h):  # type: ignore[no-untyped-def]
        o = {"e": self.e(ids)}
        o["r"] = o["e"].reshape(ids.shape[0], 3, -1, 2)
        o["l"] = self.l(h)
        o["g"] = self.g(o["l"])[0]
        return o


class LayerScale(nn.Module):
    inputs = {"x": ((8, 14, 14), torch.float32, None)}

    def __init__(self) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.randn(1, 8))  # shape [8], broadcast over the batch
        self.owners = {"gamma": self.gamma}

    def forward(self, x):  # type: ignore[no-untyped-def]
        o = {"to_last": x.permute(0, 2, 3, 1), "gamma": self.gamma}
        o["scale"] = o["to_last"] * self.gamma
        return o


# spec file -> (reference, {layer: expected shape} spot checks written from the contract by hand,
#               expected graph outputs)
SPECS: list = [
    pytest.param("encoder.yaml", Encoder, {"cat": (17, 32), "cls_out": (32,), "mask_out": (16,)},
                 ("head", "mask_out"), id="encoder"),
    pytest.param("decoder.net", Decoder, {"blk-1.k": (12, 8), "logp": (12, 40)}, ("logp",), id="decoder"),
    pytest.param("recurrent.yaml", Recurrent, {"lstm": (10, 16), "rnn": (10, 12), "last": (5,)}, ("logp",),
                 id="recurrent"),
    pytest.param("shufflenet.net", ShuffleNet, {"stage.1.b": (8, 8, 8), "aux": (4, 8, 8)},
                 ("fc", "aux", "stage.1.b"), id="shufflenet"),
    pytest.param("convnext.yaml", ConvNeXt, {"stage-0.to_last": (14, 14, 8), "head": (5,)}, ("head",),
                 id="convnext"),
    pytest.param("matmul.net", MatMul, {"flat4": (8, 4), "mm3": (8, 6)}, ("prob",), id="matmul"),
    pytest.param("shared.yaml", Shared, {"fc_again": (16,)}, ("head",), id="shared"),
    pytest.param("cross.net", Cross, {"xattn": (6, 16), "xsdpa": (6, 16)}, ("norm",), id="cross"),
    pytest.param("tokens.yaml", Tokens, {"every3": (7,), "joined": (8,)}, ("head",), id="tokens"),
    pytest.param("kvdims.net", KvDims, {"x": (5, 16), "s": (5, 16)}, ("s", "x"), id="kvdims"),
    pytest.param("multidim.net", MultiDim, {"e": (3, 4, 5, 2), "r": (3, 20, 2)}, ("r", "g"), id="multidim"),
    pytest.param("acts.net", Acts, {"ap.p": (8, 3)}, ("ap.p",), id="acts"),
    pytest.param("layerscale.yaml", LayerScale, {"scale": (14, 14, 8)}, ("scale",), id="layerscale-rank-broadcast"),
]


def sample(inputs: dict, batch: int) -> list:
    out = []
    for shape, dtype, high in inputs.values():
        if dtype == torch.int64:
            out.append(torch.randint(0, high, (batch, *shape)))
        elif dtype == torch.bool:
            out.append(torch.rand(batch, *shape) > 0.5)
        else:
            out.append(torch.randn(batch, *shape))
    return out


def own(owner: object) -> tuple[list, list]:
    if owner is None:
        return [], []
    if isinstance(owner, nn.Module):
        return list(owner.parameters()), list(owner.buffers())
    return [owner], []


@contextlib.contextmanager
def math_only() -> Iterator[None]:
    from torch.nn.attention import SDPBackend, sdpa_kernel

    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH), torch.backends.mkldnn.flags(enabled=False):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)


def torch_macs(model: nn.Module) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with math_only(), torch.no_grad(), counter:
        model(*sample(model.inputs, 1))
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


def build(reference: Callable[[], nn.Module]) -> nn.Module:
    torch.manual_seed(0)
    return reference().eval()


@pytest.mark.parametrize("filename, reference, spot, outputs", SPECS)
def test_heldout_layers_match_reference(filename: str, reference: Callable[[], nn.Module], spot: dict,
                                        outputs: tuple) -> None:
    report = analyze(str(HELDOUT / filename))
    assert report.ok, [(d.id, d.span.line, d.message) for d in report.diagnostics]
    assert not [d for d in report.diagnostics], [(d.id, d.span.line, d.message) for d in report.diagnostics]
    model = build(reference)
    with math_only(), torch.no_grad():
        measured = model(*sample(model.inputs, BATCH))
    names = [layer.name for layer in report.graph.layers]
    assert sorted(names) == sorted(measured), "the spec's layers and the reference's differ"
    assert tuple(report.graph.outputs) == outputs
    for name, dims in spot.items():
        assert tuple(report.shapes[name].dims) == dims, name
    seen: set[int] = set()
    for name in names:
        params, buffers = own(model.owners.get(name))
        new = [p for p in params if id(p) not in seen]
        seen.update(id(p) for p in params)
        got = measured[name]
        cost = report.costs[name]
        expected = (tuple(got.shape[1:]), sum(p.numel() for p in new), sum(b.numel() for b in buffers),
                    sum(p.numel() for p in new if not p.requires_grad))
        actual = (tuple(report.shapes[name].dims), cost.params, cost.buffers, cost.frozen_params)
        assert actual == expected, name


@pytest.mark.parametrize("filename, reference, spot, outputs", SPECS)
def test_heldout_totals_match_reference(filename: str, reference: Callable[[], nn.Module], spot: dict,
                                        outputs: tuple) -> None:
    report = analyze(str(HELDOUT / filename))
    assert report.ok, [(d.id, d.span.line, d.message) for d in report.diagnostics]
    model = build(reference)
    totals = report.totals()
    params = list(model.parameters())
    assert totals["params"] == sum(p.numel() for p in params)
    assert totals["trainable_params"] == sum(p.numel() for p in params if p.requires_grad)
    assert totals["non_trainable_params"] == sum(p.numel() for p in params if not p.requires_grad)
    assert totals["buffers"] == sum(b.numel() for b in model.buffers())
    assert totals["macs"] == torch_macs(model)
