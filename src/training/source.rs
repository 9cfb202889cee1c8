//! Where a [`Trainer`](super::Trainer) takes its batches from: a [`Dataset`], or any source the
//! caller implements (sequences generated on the fly, read from a store, held in another
//! program's memory).

use crate::data::{Batch, Dataset};
use crate::model::INPUT_CHANNELS;
use crate::{Error, Result};

/// Examples of one fixed length with labels for named tasks, handed out in batches.
///
/// ```
/// use sepfc::data::Batch;
/// use sepfc::training::BatchSource;
///
/// /// Every example is poly-A, labelled 1.
/// struct PolyA { tasks: Vec<String> }
///
/// impl BatchSource for PolyA {
///     fn len(&self) -> usize { 10 }
///     fn length(&self) -> usize { 3 }
///     fn tasks(&self) -> &[String] { &self.tasks }
///     fn batch(&self, indices: &[usize]) -> sepfc::Result<Batch> {
///         let n = indices.len();
///         let mut x = Vec::new();
///         for _ in 0..n {
///             sepfc::dna::one_hot_into(b"AAA", &mut x);   // (4, 3) per example
///         }
///         Ok(Batch { x, targets: vec![1.0; n], mask: vec![1.0; n], n })
///     }
/// }
/// let source = PolyA { tasks: vec!["bound".into()] };
/// assert_eq!(source.batch(&[0, 1]).unwrap().x.len(), 2 * 4 * 3);
/// ```
pub trait BatchSource {
    /// Number of examples.
    fn len(&self) -> usize;

    /// Whether there are no examples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The length in bp of every example.
    fn length(&self) -> usize;

    /// The task names, one per label column.
    fn tasks(&self) -> &[String];

    /// The examples at `indices` (each below [`BatchSource::len`]), in that order: one-hot
    /// inputs `(n, 4, length)`, targets and mask `(n, tasks)`, `n = indices.len()`. The
    /// trainer adds reverse complements itself when asked to.
    fn batch(&self, indices: &[usize]) -> Result<Batch>;
}

impl BatchSource for Dataset {
    fn len(&self) -> usize {
        Dataset::len(self)
    }

    fn length(&self) -> usize {
        self.length
    }

    fn tasks(&self) -> &[String] {
        &self.tasks
    }

    fn batch(&self, indices: &[usize]) -> Result<Batch> {
        if let Some(&i) = indices.iter().find(|&&i| i >= Dataset::len(self)) {
            return Err(Error::invalid(
                "batch",
                format!("index {i} of a dataset of {}", Dataset::len(self)),
            ));
        }
        Ok(Dataset::batch(self, indices, false))
    }
}

/// `batch` with its reverse complements appended (same order, same labels): each one-hot
/// example `(4, L)` mirrored along both axes, so that A and T, C and G swap and positions
/// run backwards. `n` doubles.
pub fn with_reverse_complements(mut batch: Batch, length: usize) -> Batch {
    let per_example = INPUT_CHANNELS * length;
    let forward = batch.x.len();
    batch.x.reserve(forward);
    for e in 0..batch.n {
        let example = e * per_example;
        for c in 0..INPUT_CHANNELS {
            let row = example + (INPUT_CHANNELS - 1 - c) * length;
            for l in (0..length).rev() {
                let v = batch.x[row + l];
                batch.x.push(v);
            }
        }
    }
    batch.targets.extend_from_within(..);
    batch.mask.extend_from_within(..);
    batch.n *= 2;
    batch
}

/// Checks a source's batch against what it promised: `n` examples of `length` bp with
/// `tasks` labels each, and a mask of 0s and 1s.
pub(crate) fn check_batch(batch: &Batch, n: usize, length: usize, tasks: usize) -> Result<()> {
    let sizes = (batch.x.len(), batch.targets.len(), batch.mask.len());
    if batch.n != n || sizes != (n * INPUT_CHANNELS * length, n * tasks, n * tasks) {
        return Err(Error::shape(
            "batch source",
            format!(
                "a batch of {} examples with {} inputs, {} targets and {} mask values, where {n} examples of {length} bp and {tasks} task(s) need {}, {} and {}",
                batch.n,
                sizes.0,
                sizes.1,
                sizes.2,
                n * INPUT_CHANNELS * length,
                n * tasks,
                n * tasks
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appending reverse complements to one-hot batches gives the one-hot of the reverse
    /// complemented sequences, IUPAC codes, N and lower case included.
    #[test]
    fn reverse_complements_of_a_one_hot_batch_are_the_one_hot_reverse_complements() {
        let sequences: Vec<Vec<u8>> = vec![b"ACGTNRacgt".to_vec(), b"GGGATTCAYn".to_vec()];
        let data = Dataset::new(
            vec!["a".into(), "b".into()],
            sequences,
            vec!["t".into()],
            vec![1.0, f32::NAN],
        )
        .unwrap();
        let ours = with_reverse_complements(data.batch(&[1, 0], false), data.length);
        assert_eq!(ours, data.batch(&[1, 0], true));
    }
}
