import { textProblems } from './text';

describe('textProblems', () => {
  it('when text is in any script, with emoji (surrogate pairs), then nothing is wrong', () => {
    expect(textProblems({ address: '配送地址', payment_method: '信用卡', name: 'Кружка 🍵 مُج' })).toEqual([]);
  });

  it('when a field holds a lone surrogate, then that field, and only it, is named', () => {
    expect(textProblems({ address: 'ok', payment_method: 'card\ud800', name: '\udc00x' })).toEqual([
      { field: 'payment_method', message: 'must be Unicode text (it holds a lone UTF-16 surrogate)' },
      { field: 'name', message: 'must be Unicode text (it holds a lone UTF-16 surrogate)' },
    ]);
  });
});
