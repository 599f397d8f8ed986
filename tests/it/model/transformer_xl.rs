//! Transformer-XL: causality, memory exactness, incremental decoding, rel-shift, overfitting.

use crate::support::max_abs_diff;
use burn::module::AutodiffModule;
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::tensor::{Int, Tensor, TensorData};
use cadenza::model::{CpuBackend, CpuTrainBackend, Memory, Pass, TransformerXlConfig, rel_shift};
use cadenza::train::trainer::cross_entropy;

type B = CpuBackend;
const VOCAB: usize = 23;

fn tokens(rows: &[Vec<i32>]) -> Tensor<B, 2, Int> {
    let (b, t) = (rows.len(), rows[0].len());
    Tensor::from_data(TensorData::new(rows.concat(), [b, t]), &Default::default())
}

fn pseudo_tokens(b: usize, t: usize, salt: u64) -> Vec<Vec<i32>> {
    let mut rng = cadenza::rng::Rng::new(salt);
    (0..b)
        .map(|_| (0..t).map(|_| rng.below(VOCAB as u64) as i32).collect())
        .collect()
}

fn values(t: Tensor<B, 3>) -> (Vec<usize>, Vec<f32>) {
    (t.dims().to_vec(), t.into_data().to_vec::<f32>().unwrap())
}

fn config(pre_norm: bool) -> TransformerXlConfig {
    TransformerXlConfig::tiny(VOCAB)
        .with_mem_len(64)
        .with_pre_norm(pre_norm)
}

#[test]
fn logits_do_not_depend_on_later_tokens_with_or_without_memory() {
    for pre_norm in [false, true] {
        let model = crate::support::model::<B>(&config(pre_norm), 7);
        let seg1 = pseudo_tokens(2, 10, 1);
        let (_, mem) = model.forward(tokens(&seg1), None);
        for memory in [None, Some(&mem)] {
            let x = pseudo_tokens(2, 12, 2);
            let (_, base) = values(model.forward(tokens(&x), memory).0);
            for t in [0usize, 5, 10] {
                let mut y = x.clone();
                for row in &mut y {
                    for v in &mut row[t + 1..] {
                        *v = (*v + 7) % VOCAB as i32;
                    }
                }
                let (_, pert) = values(model.forward(tokens(&y), memory).0);
                for b in 0..2 {
                    let at = |v: &[f32], pos: usize| {
                        v[(b * 12 + pos) * VOCAB..(b * 12 + pos + 1) * VOCAB].to_vec()
                    };
                    for pos in 0..=t {
                        assert!(
                            max_abs_diff(&at(&base, pos), &at(&pert, pos)) < 1e-6,
                            "pos {pos} saw a later token"
                        );
                    }
                    // The perturbation must be visible after t, or the check above proves nothing.
                    assert!(max_abs_diff(&at(&base, 11), &at(&pert, 11)) > 1e-4);
                }
            }
        }
    }
}

#[test]
fn segment_with_memory_equals_one_pass_over_the_concatenation() {
    for pre_norm in [false, true] {
        let model = crate::support::model::<B>(&config(pre_norm), 7);
        let x = pseudo_tokens(2, 16, 3);
        let (first, second): (Vec<_>, Vec<_>) =
            x.iter().map(|r| (r[..8].to_vec(), r[8..].to_vec())).unzip();
        let (_, full) = values(model.forward(tokens(&x), None).0);
        let (_, mem) = model.forward(tokens(&first), None);
        assert_eq!(mem.len(), 8);
        let (dims, seg2) = values(model.forward(tokens(&second), Some(&mem)).0);
        assert_eq!(dims, vec![2, 8, VOCAB]);
        for b in 0..2 {
            let want = &full[(b * 16 + 8) * VOCAB..(b * 16 + 16) * VOCAB];
            let got = &seg2[b * 8 * VOCAB..(b + 1) * 8 * VOCAB];
            assert!(
                max_abs_diff(want, got) < 1e-4,
                "pre_norm={pre_norm}: {}",
                max_abs_diff(want, got)
            );
        }
    }
}

/// With each token's position in its song as the lookback, a song that starts inside a segment,
/// after another song in the memory, is computed as if it were alone: for its first segment
/// and, through the memory, for the next.
#[test]
fn a_song_start_with_lookback_ignores_the_previous_song() {
    const BOS: i32 = 1;
    let model = crate::support::model::<B>(&config(false), 10);
    // Tokens 2.. only, so Bos marks the one song start.
    let song_tokens = |b, t, salt| {
        let rows = pseudo_tokens(b, t, salt);
        rows.into_iter()
            .map(|r| r.into_iter().map(|v| 2 + v % (VOCAB as i32 - 2)).collect())
            .collect::<Vec<Vec<i32>>>()
    };
    let before = song_tokens(2, 8, 5);
    let mut song = song_tokens(2, 11, 6);
    for row in &mut song {
        row[0] = BOS;
    }
    // Segment 2: three more tokens of the old song, then the new song's first 5; segment 3:
    // the new song's last 6.
    let seg2: Vec<Vec<i32>> = (0..2)
        .map(|b| [&before[b][..3], &song[b][..5]].concat())
        .collect();
    let seg3: Vec<Vec<i32>> = song.iter().map(|r| r[5..].to_vec()).collect();
    let batch = |rows: &[Vec<i32>]| cadenza::train::loader::Batch {
        batch: 2,
        len: rows[0].len(),
        inputs: rows.concat(),
        targets: rows.concat(),
    };
    let mut positions = cadenza::train::loader::SongPositions::new(2);
    let (_, mem1) = model.forward(tokens(&before), None);
    let look2 = positions.lookback(&batch(&before), BOS as u16);
    assert!(look2.0.iter().all(|&p| p == u32::MAX));
    let look2 = positions.lookback(&batch(&seg2), BOS as u16);
    let look3 = positions.lookback(&batch(&seg3), BOS as u16);
    let (_, alone) = values(model.forward(tokens(&song), None).0);
    let within = |look| Pass {
        lookback: Some(look),
        ..Pass::default()
    };
    let (l2, mem2) = model.forward_with(tokens(&seg2), Some(&mem1), within(&look2));
    let (l3, _) = model.forward_with(tokens(&seg3), Some(&mem2), within(&look3));
    let (_, unmasked) = values(model.forward(tokens(&seg2), Some(&mem1)).0);
    let ((_, l2), (_, l3)) = (values(l2), values(l3));
    for b in 0..2 {
        let want =
            |from: usize, n: usize| &alone[(b * 11 + from) * VOCAB..(b * 11 + from + n) * VOCAB];
        let seg2_song = &l2[(b * 8 + 3) * VOCAB..(b * 8 + 8) * VOCAB];
        let seg3_song = &l3[b * 6 * VOCAB..(b + 1) * 6 * VOCAB];
        assert!(max_abs_diff(want(0, 5), seg2_song) < 1e-4);
        assert!(max_abs_diff(want(5, 6), seg3_song) < 1e-4);
        // Without the lookback the old song is seen, or the check above proves nothing.
        let seen = &unmasked[(b * 8 + 3) * VOCAB..(b * 8 + 8) * VOCAB];
        assert!(max_abs_diff(want(0, 5), seen) > 1e-3);
    }
}

#[test]
fn one_token_at_a_time_reproduces_the_full_forward() {
    let model = crate::support::model::<B>(&config(false), 8);
    let x = pseudo_tokens(2, 20, 4);
    let (_, full) = values(model.forward(tokens(&x), None).0);
    let mut mem: Option<Memory<B>> = None;
    for t in 0..20 {
        let step: Vec<Vec<i32>> = x.iter().map(|r| vec![r[t]]).collect();
        let (logits, new) = model.forward(tokens(&step), mem.as_ref());
        let (_, got) = values(logits);
        for b in 0..2 {
            let want = &full[(b * 20 + t) * VOCAB..(b * 20 + t + 1) * VOCAB];
            assert!(
                max_abs_diff(want, &got[b * VOCAB..(b + 1) * VOCAB]) < 1e-4,
                "step {t}"
            );
        }
        mem = Some(new);
    }
    // Memory is capped at mem_len: a short memory keeps only the newest states.
    let short = crate::support::model::<B>(&TransformerXlConfig::tiny(VOCAB).with_mem_len(5), 9);
    let (_, m) = short.forward(tokens(&x), None);
    assert_eq!(m.layers.len(), 2);
    assert_eq!(m.layers[0].dims(), [2, 5, 32]);
}

#[test]
fn rel_shift_aligns_scores_to_relative_distance() {
    let (t, k) = (3usize, 5usize);
    let data: Vec<f32> = (0..t * k).map(|v| v as f32).collect();
    let x = Tensor::<B, 4>::from_data(
        TensorData::new(data.clone(), [1, 1, t, k]),
        &Default::default(),
    );
    let y = rel_shift(x).into_data().to_vec::<f32>().unwrap();
    // Column c of x is distance k-1-c; query i sits at absolute k-t+i; key j is at distance k-t+i-j.
    for i in 0..t {
        for j in 0..=(k - t + i) {
            let c = k - 1 - (k - t + i - j);
            assert_eq!(y[i * k + j], data[i * k + c], "i={i} j={j}");
        }
    }
}

#[test]
fn tiny_model_overfits_a_short_sequence() {
    type AB = CpuTrainBackend;
    let device = Default::default();
    let cfg = TransformerXlConfig::tiny(VOCAB)
        .with_tgt_len(24)
        .with_mem_len(0);
    let mut model = crate::support::model::<AB>(&cfg, 11);
    let mut optim = AdamWConfig::new().with_weight_decay(0.0).init::<AB, _>();
    let seq = pseudo_tokens(1, 25, 5).remove(0);
    let x = Tensor::<AB, 2, Int>::from_data(TensorData::new(seq[..24].to_vec(), [1, 24]), &device);
    let y = Tensor::<AB, 2, Int>::from_data(TensorData::new(seq[1..].to_vec(), [1, 24]), &device);
    let mut first = None;
    let mut loss_value = f32::NAN;
    for _ in 0..300 {
        let (logits, _) = model.forward(x.clone(), None);
        let loss = cross_entropy(logits, y.clone());
        loss_value = loss.clone().into_scalar();
        first.get_or_insert(loss_value);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(3e-3, model, grads);
    }
    assert!(
        first.unwrap() > 2.5,
        "initial loss {first:?} should be near ln(23)"
    );
    assert!(loss_value < 0.05, "final loss {loss_value}");
    // The inference copy agrees.
    let valid = model.valid();
    let xv = Tensor::<B, 2, Int>::from_data(
        TensorData::new(seq[..24].to_vec(), [1, 24]),
        &Default::default(),
    );
    let yv = Tensor::<B, 2, Int>::from_data(
        TensorData::new(seq[1..].to_vec(), [1, 24]),
        &Default::default(),
    );
    let l: f32 = cross_entropy(valid.forward(xv, None).0, yv).into_scalar();
    assert!((l - loss_value).abs() < 0.05);
}
