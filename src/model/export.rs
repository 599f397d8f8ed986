//! A trained model as safetensors, under stable PyTorch-style names, for use outside this
//! program (scripts/reference/transformer_xl.py reproduces the logits with numpy).
//!
//! Names and shapes (`L` = layer, weights as PyTorch's `nn.Linear` holds them, `[out, in]`):
//!
//! ```text
//! word_emb.weight                  [vocab, d_model]   also the tied output projection
//! out_bias                         [vocab]
//! layers.L.attn.q_net.weight       [n_head·d_head, d_model]
//! layers.L.attn.kv_net.weight      [2·n_head·d_head, d_model]   keys first, then values
//! layers.L.attn.r_net.weight       [n_head·d_head, d_model]
//! layers.L.attn.o_net.weight       [d_model, n_head·d_head]
//! layers.L.attn.r_w_bias           [n_head, d_head]   u of the paper
//! layers.L.attn.r_r_bias           [n_head, d_head]   v of the paper
//! layers.L.attn.layer_norm.weight  [d_model]   (and .bias)
//! layers.L.ff.0.weight             [d_inner, d_model]   (and .bias)
//! layers.L.ff.1.weight             [d_model, d_inner]   (and .bias)
//! layers.L.ff.layer_norm.weight    [d_model]   (and .bias)
//! final_norm.weight                [d_model]   (and .bias; pre_norm models only)
//! ```
//!
//! The `__metadata__` holds `format` (`cadenza.transformer_xl`), `format_version`, the model
//! config (`model_config`, JSON), the tokenizer (`tokenizer`, tokenizer.json's content) and
//! the layer norm's epsilon. The file format (a little-endian u64 header length, a JSON header,
//! then the tensors' bytes) is simple enough to write here without a crate.

use anyhow::{Context, Result, bail, ensure};
use burn::module::Param;
use burn::nn::{LayerNorm, Linear};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use std::collections::BTreeMap;
use std::path::Path;

use super::{TransformerXl, TransformerXlConfig};

pub const FORMAT: &str = "cadenza.transformer_xl";
pub const FORMAT_VERSION: u32 = 1;
/// Burn's LayerNorm epsilon (`LayerNormConfig`'s default), which a reader needs.
const LAYER_NORM_EPS: f64 = 1e-5;

/// One named tensor: f32 values, row-major, and its shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

fn values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("f32 data")
}

fn named<B: Backend, const D: usize>(name: String, t: Tensor<B, D>) -> Named {
    Named {
        name,
        shape: t.dims().to_vec(),
        values: values(t),
    }
}

/// Every parameter of `model` under its exported name, in a fixed order.
pub fn tensors<B: Backend>(model: &TransformerXl<B>) -> Vec<Named> {
    let mut out = vec![
        named("word_emb.weight".into(), model.embed.weight.val()),
        named("out_bias".into(), model.out_bias.val()),
    ];
    let linear = |out: &mut Vec<Named>, name: String, l: &Linear<B>| {
        // Burn keeps [in, out]; PyTorch's nn.Linear [out, in].
        out.push(named(format!("{name}.weight"), l.weight.val().transpose()));
        if let Some(b) = &l.bias {
            out.push(named(format!("{name}.bias"), b.val()));
        }
    };
    let norm = |out: &mut Vec<Named>, name: String, n: &LayerNorm<B>| {
        out.push(named(format!("{name}.weight"), n.gamma.val()));
        if let Some(b) = &n.beta {
            out.push(named(format!("{name}.bias"), b.val()));
        }
    };
    for (i, l) in model.layers.iter().enumerate() {
        let p = format!("layers.{i}");
        linear(&mut out, format!("{p}.attn.q_net"), &l.q_net);
        linear(&mut out, format!("{p}.attn.kv_net"), &l.kv_net);
        linear(&mut out, format!("{p}.attn.r_net"), &l.r_net);
        linear(&mut out, format!("{p}.attn.o_net"), &l.o_net);
        out.push(named(format!("{p}.attn.r_w_bias"), l.r_w_bias.val()));
        out.push(named(format!("{p}.attn.r_r_bias"), l.r_r_bias.val()));
        norm(&mut out, format!("{p}.attn.layer_norm"), &l.norm_attn);
        linear(&mut out, format!("{p}.ff.0"), &l.ff1);
        linear(&mut out, format!("{p}.ff.1"), &l.ff2);
        norm(&mut out, format!("{p}.ff.layer_norm"), &l.norm_ff);
    }
    if let Some(n) = &model.final_norm {
        norm(&mut out, "final_norm".into(), n);
    }
    out
}

/// The safetensors bytes of `model`, with its config and the tokenizer in the metadata.
pub fn to_safetensors<B: Backend>(
    model: &TransformerXl<B>,
    config: &TransformerXlConfig,
    tokenizer_json: &str,
) -> Result<Vec<u8>> {
    encode(&tensors(model), config, tokenizer_json)
}

/// The safetensors bytes of `tensors` (a model's, from [`tensors`]).
fn encode(
    tensors: &[Named],
    config: &TransformerXlConfig,
    tokenizer_json: &str,
) -> Result<Vec<u8>> {
    let mut header = serde_json::Map::new();
    header.insert(
        "__metadata__".into(),
        serde_json::json!({
            "format": FORMAT,
            "format_version": FORMAT_VERSION.to_string(),
            "model_config": serde_json::to_string(config)?,
            "tokenizer": tokenizer_json,
            "layer_norm_eps": LAYER_NORM_EPS.to_string(),
        }),
    );
    let mut offset = 0usize;
    for t in tensors {
        let end = offset + 4 * t.values.len();
        header.insert(
            t.name.clone(),
            serde_json::json!({ "dtype": "F32", "shape": t.shape, "data_offsets": [offset, end] }),
        );
        offset = end;
    }
    let mut head = serde_json::to_vec(&header)?;
    // The data starts 8-byte aligned (the format allows trailing spaces in the header).
    while (8 + head.len()) % 8 != 0 {
        head.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + head.len() + offset);
    out.extend((head.len() as u64).to_le_bytes());
    out.extend(head);
    for t in tensors {
        for v in &t.values {
            out.extend(v.to_le_bytes());
        }
    }
    Ok(out)
}

/// A safetensors file read back: its metadata and its tensors by name.
pub struct SafeTensors {
    pub metadata: BTreeMap<String, String>,
    pub tensors: BTreeMap<String, Named>,
}

/// Parses safetensors bytes (f32 tensors only, as [`to_safetensors`] writes them).
pub fn read_safetensors(bytes: &[u8]) -> Result<SafeTensors> {
    ensure!(bytes.len() >= 8, "too short for a safetensors file");
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let head = bytes
        .get(8..8usize.saturating_add(n))
        .context("the header length runs past the end of the file")?;
    let data = &bytes[8 + n..];
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(head).context("the header is not JSON")?;
    let mut metadata = BTreeMap::new();
    let mut tensors = BTreeMap::new();
    for (name, v) in header {
        if name == "__metadata__" {
            for (k, v) in v.as_object().context("__metadata__ is not an object")? {
                metadata.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
            }
            continue;
        }
        if v["dtype"] != "F32" {
            bail!("tensor {name}: dtype {} (only F32 is read)", v["dtype"]);
        }
        let shape: Vec<usize> = serde_json::from_value(v["shape"].clone())
            .with_context(|| format!("tensor {name}: bad shape"))?;
        let [start, end]: [usize; 2] = serde_json::from_value(v["data_offsets"].clone())
            .with_context(|| format!("tensor {name}: bad data_offsets"))?;
        let raw = data
            .get(start..end)
            .with_context(|| format!("tensor {name}: data_offsets past the end"))?;
        ensure!(
            raw.len() == 4 * shape.iter().product::<usize>(),
            "tensor {name}: {} bytes for shape {shape:?}",
            raw.len()
        );
        let values = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        tensors.insert(
            name.clone(),
            Named {
                name,
                shape,
                values,
            },
        );
    }
    Ok(SafeTensors { metadata, tensors })
}

/// The model of a file [`to_safetensors`] wrote: the config from its metadata, every
/// parameter from its tensors (each must be there, with the shape the config gives).
pub fn from_safetensors<B: Backend>(
    bytes: &[u8],
    device: &B::Device,
) -> Result<(TransformerXl<B>, TransformerXlConfig)> {
    let st = read_safetensors(bytes)?;
    ensure!(
        st.metadata.get("format").map(String::as_str) == Some(FORMAT),
        "not a {FORMAT} file (metadata `format` is {:?})",
        st.metadata.get("format")
    );
    let config: TransformerXlConfig = serde_json::from_str(
        st.metadata
            .get("model_config")
            .context("no model_config in the metadata")?,
    )
    .context("bad model_config in the metadata")?;
    let mut model = config.init::<B>(device);
    // How many tensors the model took: the file must hold no others.
    let taken = std::cell::Cell::new(0usize);
    let take = |name: &str, like: &[usize]| -> Result<TensorData> {
        taken.set(taken.get() + 1);
        let t = st
            .tensors
            .get(name)
            .with_context(|| format!("tensor {name} is missing"))?;
        ensure!(
            t.shape == like,
            "tensor {name}: shape {:?}, the config gives {like:?}",
            t.shape
        );
        Ok(TensorData::new(t.values.clone(), t.shape.clone()))
    };
    // Each exported tensor back into the parameter it came from (transposed back for linears).
    fn set<B: Backend, const D: usize>(
        p: &mut Param<Tensor<B, D>>,
        data: TensorData,
        device: &B::Device,
    ) {
        *p = Param::from_tensor(Tensor::from_data(data, device));
    }
    let linear = |l: &mut Linear<B>, name: &str| -> Result<()> {
        let [i, o] = l.weight.dims();
        // Transposed into a contiguous [in, out] buffer, as a trained weight is laid out (a
        // strided view would change the matmul's summation order, and so the last bits).
        let t = take(&format!("{name}.weight"), &[o, i])?
            .to_vec::<f32>()
            .expect("f32");
        let w: Vec<f32> = (0..i * o).map(|n| t[(n % o) * i + n / o]).collect();
        set(&mut l.weight, TensorData::new(w, [i, o]), device);
        if let Some(b) = &mut l.bias {
            set(b, take(&format!("{name}.bias"), &[o])?, device);
        }
        Ok(())
    };
    let norm = |n: &mut LayerNorm<B>, name: &str| -> Result<()> {
        let d = n.gamma.dims();
        set(&mut n.gamma, take(&format!("{name}.weight"), &d)?, device);
        if let Some(b) = &mut n.beta {
            set(b, take(&format!("{name}.bias"), &d)?, device);
        }
        Ok(())
    };
    let d = model.embed.weight.dims();
    set(
        &mut model.embed.weight,
        take("word_emb.weight", &d)?,
        device,
    );
    let d = model.out_bias.dims();
    set(&mut model.out_bias, take("out_bias", &d)?, device);
    for (i, l) in model.layers.iter_mut().enumerate() {
        let p = format!("layers.{i}");
        linear(&mut l.q_net, &format!("{p}.attn.q_net"))?;
        linear(&mut l.kv_net, &format!("{p}.attn.kv_net"))?;
        linear(&mut l.r_net, &format!("{p}.attn.r_net"))?;
        linear(&mut l.o_net, &format!("{p}.attn.o_net"))?;
        let d = l.r_w_bias.dims();
        set(
            &mut l.r_w_bias,
            take(&format!("{p}.attn.r_w_bias"), &d)?,
            device,
        );
        set(
            &mut l.r_r_bias,
            take(&format!("{p}.attn.r_r_bias"), &d)?,
            device,
        );
        norm(&mut l.norm_attn, &format!("{p}.attn.layer_norm"))?;
        linear(&mut l.ff1, &format!("{p}.ff.0"))?;
        linear(&mut l.ff2, &format!("{p}.ff.1"))?;
        norm(&mut l.norm_ff, &format!("{p}.ff.layer_norm"))?;
    }
    if let Some(n) = &mut model.final_norm {
        norm(n, "final_norm")?;
    }
    let expected = taken.get();
    ensure!(
        st.tensors.len() == expected,
        "{} tensors in the file, the config gives {expected}",
        st.tensors.len()
    );
    Ok((model, config))
}

/// `pipeline export`: a checkpoint's model as a safetensors file at `out`.
pub fn export_checkpoint(checkpoint: &Path, out: &Path, tokenizer_json: &str) -> Result<usize> {
    let ckpt = super::Checkpoint::resolve(checkpoint)?;
    let config = ckpt.model_config()?;
    let model = ckpt.load_model::<super::CpuBackend>(&Default::default())?;
    let tensors = tensors(&model);
    crate::fsio::write_file(out, &encode(&tensors, &config, tokenizer_json)?)?;
    Ok(tensors.len())
}
